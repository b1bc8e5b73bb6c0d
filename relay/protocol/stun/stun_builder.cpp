#include "relay/protocol/stun/stun_builder.hpp"

#include "relay/protocol/bits/byte_writer.hpp"
#include "relay/protocol/stun/message_integrity.hpp"
#include "relay/protocol/stun/stun_crc32.hpp"

namespace anchorcast::stun {
namespace {

void put64(std::vector<uint8_t>& out, uint64_t v) {
  bits::append_be32(out, static_cast<uint32_t>(v >> 32));
  bits::append_be32(out, static_cast<uint32_t>(v));
}

void set_length(std::vector<uint8_t>& out) {
  const size_t length = out.size() - kHeaderSize;
  out[2] = static_cast<uint8_t>(length >> 8);
  out[3] = static_cast<uint8_t>(length);
}

void put_header(std::vector<uint8_t>& out, uint16_t type, const TransactionId& transaction_id) {
  out.clear();
  bits::append_be16(out, type);
  bits::append_be16(out, 0);
  bits::append_be32(out, kMagicCookie);
  out.insert(out.end(), transaction_id.begin(), transaction_id.end());
}

void put_attribute(std::vector<uint8_t>& out, uint16_t type, std::span<const uint8_t> value) {
  bits::append_be16(out, type);
  bits::append_be16(out, static_cast<uint16_t>(value.size()));
  out.insert(out.end(), value.begin(), value.end());
  while (out.size() % 4) out.push_back(0);
}

void put_text(std::vector<uint8_t>& out, uint16_t type, std::string_view text) {
  put_attribute(out, type, {reinterpret_cast<const uint8_t*>(text.data()), text.size()});
}

Status put_trailer(std::vector<uint8_t>& out, std::string_view integrity_key, bool fingerprint) {
  if (!integrity_key.empty()) {
    auto mac = message_integrity(out, integrity_key);
    if (!mac) return mac.error();
    put_attribute(out, attr::kMessageIntegrity, *mac);
  }
  if (fingerprint) {
    // The CRC covers everything before FINGERPRINT, under a header length that
    // already counts it (RFC 8489 §14.7).
    const size_t length = out.size() - kHeaderSize + 8;
    out[2] = static_cast<uint8_t>(length >> 8);
    out[3] = static_cast<uint8_t>(length);
    const uint32_t crc = crc32_iso_hdlc(out) ^ kFingerprintXor;
    bits::append_be16(out, attr::kFingerprint);
    bits::append_be16(out, 4);
    bits::append_be32(out, crc);
  }
  set_length(out);
  return {};
}

// 0x0101: Binding (method 1) with class success (C1=1, C0=0).
constexpr uint16_t kBindingSuccessType = 0x0101;
constexpr uint16_t kBindingRequestType = 0x0001;

}  // namespace

Status build_binding_success(const BindingSuccess& response, std::vector<uint8_t>& out) {
  if (response.software.size() > 763) return make_error("STUN SOFTWARE longer than 763 bytes");
  put_header(out, kBindingSuccessType, response.transaction_id);
  if (!response.software.empty()) put_text(out, attr::kSoftware, response.software);

  std::array<uint8_t, 20> value{};
  value[1] = response.mapped.ipv6 ? 0x02 : 0x01;
  const uint16_t port = static_cast<uint16_t>(response.mapped.port ^ (kMagicCookie >> 16));
  value[2] = static_cast<uint8_t>(port >> 8);
  value[3] = static_cast<uint8_t>(port);
  std::array<uint8_t, 16> mask{0x21, 0x12, 0xA4, 0x42};
  for (size_t i = 0; i < 12; ++i) mask[4 + i] = response.transaction_id[i];
  const size_t ip_size = response.mapped.ipv6 ? 16 : 4;
  for (size_t i = 0; i < ip_size; ++i) value[4 + i] = response.mapped.ip[i] ^ mask[i];
  put_attribute(out, attr::kXorMappedAddress, std::span<const uint8_t>(value).first(4 + ip_size));
  return put_trailer(out, response.integrity_key, response.fingerprint);
}

Status build_binding_request(const BindingRequest& request, std::vector<uint8_t>& out) {
  if (request.username.size() > kMaxUsernameSize) return make_error("STUN USERNAME longer than 513 bytes");
  if (request.software.size() > 763) return make_error("STUN SOFTWARE longer than 763 bytes");
  put_header(out, kBindingRequestType, request.transaction_id);
  if (!request.software.empty()) put_text(out, attr::kSoftware, request.software);
  if (request.priority) {
    bits::append_be16(out, attr::kPriority);
    bits::append_be16(out, 4);
    bits::append_be32(out, *request.priority);
  }
  if (request.use_candidate) {
    bits::append_be16(out, attr::kUseCandidate);
    bits::append_be16(out, 0);
  }
  if (request.ice_controlled) {
    bits::append_be16(out, attr::kIceControlled);
    bits::append_be16(out, 8);
    put64(out, *request.ice_controlled);
  }
  if (request.ice_controlling) {
    bits::append_be16(out, attr::kIceControlling);
    bits::append_be16(out, 8);
    put64(out, *request.ice_controlling);
  }
  if (!request.username.empty()) put_text(out, attr::kUsername, request.username);
  return put_trailer(out, request.integrity_key, request.fingerprint);
}

}  // namespace anchorcast::stun
