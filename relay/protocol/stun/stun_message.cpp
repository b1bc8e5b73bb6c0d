#include "relay/protocol/stun/stun_message.hpp"

#include <openssl/crypto.h>

#include <string>

#include "relay/protocol/bits/byte_order.hpp"
#include "relay/protocol/stun/message_integrity.hpp"
#include "relay/protocol/stun/stun_crc32.hpp"

namespace anchorcast::stun {
namespace {

using bits::load_be16;
using bits::load_be32;
using bits::load_be64;

std::string hex16(uint16_t v) {
  static const char* digits = "0123456789abcdef";
  std::string s = "0x0000";
  for (int i = 0; i < 4; ++i) s[5 - i] = digits[(v >> (4 * i)) & 0xF];
  return s;
}

Status expect_size(uint16_t type, size_t got, size_t want) {
  if (got == want) return {};
  return make_error("STUN attribute " + hex16(type) + " has " + std::to_string(got) +
                    " bytes, expected " + std::to_string(want));
}

Result<TransportAddress> parse_xor_address(std::span<const uint8_t> v,
                                           const TransactionId& transaction_id) {
  if (v.size() < 4) return make_error("STUN XOR-MAPPED-ADDRESS shorter than 4 bytes");
  TransportAddress address;
  address.port = static_cast<uint16_t>(load_be16(&v[2]) ^ (kMagicCookie >> 16));
  std::array<uint8_t, 16> mask{0x21, 0x12, 0xA4, 0x42};
  for (size_t i = 0; i < 12; ++i) mask[4 + i] = transaction_id[i];
  if (v[1] == 0x01) {
    if (v.size() != 8) return make_error("STUN XOR-MAPPED-ADDRESS (IPv4) is not 8 bytes");
    for (size_t i = 0; i < 4; ++i) address.ip[i] = v[4 + i] ^ mask[i];
  } else if (v[1] == 0x02) {
    if (v.size() != 20) return make_error("STUN XOR-MAPPED-ADDRESS (IPv6) is not 20 bytes");
    address.ipv6 = true;
    for (size_t i = 0; i < 16; ++i) address.ip[i] = v[4 + i] ^ mask[i];
  } else {
    return make_error("STUN XOR-MAPPED-ADDRESS has unknown family " + std::to_string(v[1]));
  }
  return address;
}

std::string_view as_text(std::span<const uint8_t> v) {
  return {reinterpret_cast<const char*>(v.data()), v.size()};
}

}  // namespace

bool looks_like_stun(std::span<const uint8_t> datagram) {
  return datagram.size() >= kHeaderSize && datagram[0] <= 3 && load_be32(&datagram[4]) == kMagicCookie;
}

Result<StunMessage> parse_stun(std::span<const uint8_t> datagram) {
  if (datagram.size() < kHeaderSize)
    return make_error("STUN message of " + std::to_string(datagram.size()) +
                      " bytes is shorter than the 20-byte header");
  if (datagram.size() > kMaxMessageSize)
    return make_error("STUN message of " + std::to_string(datagram.size()) + " bytes exceeds " +
                      std::to_string(kMaxMessageSize));
  const uint8_t* h = datagram.data();
  if (h[0] & 0xC0) return make_error("STUN message does not start with two zero bits");
  if (load_be32(h + 4) != kMagicCookie) return make_error("STUN magic cookie missing (RFC 3489 message?)");
  const size_t length = load_be16(h + 2);
  if (length % 4 != 0) return make_error("STUN message length " + std::to_string(length) + " is not a multiple of 4");
  if (length != datagram.size() - kHeaderSize)
    return make_error("STUN header says " + std::to_string(length) + " attribute bytes, datagram has " +
                      std::to_string(datagram.size() - kHeaderSize));

  StunMessage m;
  const uint16_t type = load_be16(h);
  // RFC 8489 §5: M11..M0 interleaved with C1 (bit 8) and C0 (bit 4).
  m.method = static_cast<uint16_t>((type & 0x000F) | ((type & 0x00E0) >> 1) | ((type & 0x3E00) >> 2));
  m.message_class = static_cast<MessageClass>(((type >> 7) & 0x2) | ((type >> 4) & 0x1));
  for (size_t i = 0; i < 12; ++i) m.transaction_id[i] = h[8 + i];

  size_t pos = kHeaderSize;
  while (pos < datagram.size()) {
    if (datagram.size() - pos < 4) return make_error("STUN attribute header cut at byte " + std::to_string(pos));
    const uint16_t at = load_be16(h + pos);
    const size_t len = load_be16(h + pos + 2);
    const size_t padded = (len + 3) & ~size_t{3};
    if (padded > datagram.size() - pos - 4)
      return make_error("STUN attribute " + hex16(at) + " at byte " + std::to_string(pos) + " claims " +
                        std::to_string(len) + " bytes, only " + std::to_string(datagram.size() - pos - 4) +
                        " remain");
    const std::span<const uint8_t> v = datagram.subspan(pos + 4, len);
    if (at == attr::kFingerprint) {
      if (auto s = expect_size(at, len, 4); !s) return s.error();
      if (pos + 8 != datagram.size()) return make_error("STUN FINGERPRINT is not the last attribute");
      const uint32_t want = crc32_iso_hdlc(datagram.first(pos)) ^ kFingerprintXor;
      if (load_be32(v.data()) != want) return make_error("STUN FINGERPRINT does not match the message");
      m.has_fingerprint = true;
    } else if (m.integrity_offset) {
      // RFC 8489 §14.5: only FINGERPRINT may follow MESSAGE-INTEGRITY; others are ignored.
    } else {
      switch (at) {
        case attr::kUsername:
          if (len > kMaxUsernameSize) return make_error("STUN USERNAME longer than 513 bytes");
          m.username = as_text(v);
          break;
        case attr::kMessageIntegrity:
          if (auto s = expect_size(at, len, kIntegritySize); !s) return s.error();
          m.integrity_offset = pos;
          break;
        case attr::kPriority:
          if (auto s = expect_size(at, len, 4); !s) return s.error();
          m.priority = load_be32(v.data());
          break;
        case attr::kUseCandidate:
          if (auto s = expect_size(at, len, 0); !s) return s.error();
          m.use_candidate = true;
          break;
        case attr::kIceControlling:
          if (auto s = expect_size(at, len, 8); !s) return s.error();
          m.ice_controlling = load_be64(v.data());
          break;
        case attr::kIceControlled:
          if (auto s = expect_size(at, len, 8); !s) return s.error();
          m.ice_controlled = load_be64(v.data());
          break;
        case attr::kXorMappedAddress: {
          auto address = parse_xor_address(v, m.transaction_id);
          if (!address) return address.error();
          m.xor_mapped_address = *address;
          break;
        }
        case attr::kErrorCode:
          if (len < 4) return make_error("STUN ERROR-CODE shorter than 4 bytes");
          m.error_code = static_cast<uint16_t>((v[2] & 0x7) * 100 + v[3]);
          break;
        case attr::kSoftware:
          m.software = as_text(v);
          break;
        default:
          if (at < 0x8000 && m.unknown_required_count < m.unknown_required.size())
            m.unknown_required[m.unknown_required_count++] = at;
          break;
      }
    }
    pos += 4 + padded;
  }
  return m;
}

bool verify_message_integrity(std::span<const uint8_t> datagram, const StunMessage& message,
                              std::string_view key) {
  if (!message.integrity_offset) return false;
  const size_t offset = *message.integrity_offset;
  if (offset + 4 + kIntegritySize > datagram.size()) return false;
  auto mac = message_integrity(datagram.first(offset), key);
  if (!mac) return false;
  return CRYPTO_memcmp(mac->data(), datagram.data() + offset + 4, kIntegritySize) == 0;
}

}  // namespace anchorcast::stun
