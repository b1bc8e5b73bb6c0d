#include "relay/egress/webrtc/srtp_rtp_sealer.hpp"

#include <openssl/evp.h>

#include <cstring>
#include <optional>

#include "relay/protocol/bits/byte_order.hpp"

namespace anchorcast::webrtc {

namespace {

constexpr size_t kAuthTagCm = 10;   // HMAC-SHA1-80
constexpr size_t kAuthTagGcm = 16;  // RFC 7714 AEAD_AES_128_GCM

// RFC 3550 5.1: the header, with CSRCs and a header extension, is not encrypted.
std::optional<size_t> rtp_header_size(std::span<const uint8_t> p) {
  if (p.size() < 12 || (p[0] >> 6) != 2) return std::nullopt;
  size_t size = 12 + 4 * size_t(p[0] & 0x0F);
  if (p[0] & 0x10) {
    if (p.size() < size + 4) return std::nullopt;
    size += 4 + 4 * (size_t(p[size + 2]) << 8 | p[size + 3]);
  }
  if (size > p.size()) return std::nullopt;
  return size;
}

}  // namespace

SrtpRtpSealer::SrtpRtpSealer(SrtpRtpSealer&&) noexcept = default;
SrtpRtpSealer& SrtpRtpSealer::operator=(SrtpRtpSealer&&) noexcept = default;
SrtpRtpSealer::~SrtpRtpSealer() = default;

Result<SrtpRtpSealer> SrtpRtpSealer::create(SrtpProfile profile, std::span<const uint8_t> master_key_salt) {
  auto keys = derive_srtp_session_keys(profile, master_key_salt, SrtpChannel::rtp);
  if (!keys) return keys.error();
  SrtpRtpSealer s;
  s.profile_ = profile;
  s.keys_ = *keys;
  s.cipher_ = {EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free};
  if (!s.cipher_) return make_error("EVP_CIPHER_CTX_new failed");
  if (profile == SrtpProfile::aead_aes_128_gcm) {
    if (EVP_EncryptInit_ex(s.cipher_.get(), EVP_aes_128_gcm(), nullptr, nullptr, nullptr) != 1 ||
        EVP_CIPHER_CTX_ctrl(s.cipher_.get(), EVP_CTRL_GCM_SET_IVLEN, 12, nullptr) != 1 ||
        EVP_EncryptInit_ex(s.cipher_.get(), nullptr, nullptr, s.keys_.encryption.data(), nullptr) != 1)
      return make_error("AES-GCM init failed");
    return s;
  }
  if (EVP_EncryptInit_ex(s.cipher_.get(), EVP_aes_128_ctr(), nullptr, s.keys_.encryption.data(), nullptr) != 1)
    return make_error("AES-CTR init failed");
  auto mac = make_hmac_sha1(s.keys_.authentication);
  if (!mac) return mac.error();
  s.mac_ = std::move(*mac);
  return s;
}

uint64_t SrtpRtpSealer::packet_index(uint32_t ssrc, uint16_t seq) {
  Ssrc* slot = nullptr;
  for (auto& s : ssrcs_)
    if (s.used && s.ssrc == ssrc) slot = &s;
  if (!slot) {
    slot = &ssrcs_[0];
    for (auto& s : ssrcs_)
      if (!s.used) {
        slot = &s;
        break;
      }
    *slot = Ssrc{ssrc, true, 0, seq};
    return seq;
  }
  // RFC 3711 3.3.1 / Appendix A: the ROC guess nearest the highest sequence sent.
  uint32_t v = slot->roc;
  if (slot->highest < 32768) {
    if (int(seq) - int(slot->highest) > 32768 && v > 0) v = slot->roc - 1;
  } else if (int(slot->highest) - 32768 > int(seq)) {
    v = slot->roc + 1;
  }
  uint64_t index = uint64_t(v) << 16 | seq;
  if (index > (uint64_t(slot->roc) << 16 | slot->highest)) {
    slot->roc = v;
    slot->highest = seq;
  }
  return index;
}

Result<size_t> SrtpRtpSealer::seal(std::span<uint8_t> buffer, size_t rtp_size) {
  if (rtp_size > buffer.size()) return make_error("RTP packet larger than its buffer");
  auto header_size = rtp_header_size(buffer.first(rtp_size));
  if (!header_size) return make_error("not an RTP packet");
  const bool gcm = profile_ == SrtpProfile::aead_aes_128_gcm;
  if (buffer.size() < rtp_size + (gcm ? kAuthTagGcm : kAuthTagCm)) return make_error("no room for the SRTP tag");
  const uint8_t* h = buffer.data();
  uint16_t seq = bits::load_be16(h + 2);
  uint32_t ssrc = bits::load_be32(h + 8);
  uint64_t index = packet_index(ssrc, seq);
  uint32_t roc = static_cast<uint32_t>(index >> 16);
  uint8_t* payload = buffer.data() + *header_size;
  int payload_len = static_cast<int>(rtp_size - *header_size);
  int len = 0;

  if (gcm) {
    // RFC 7714 8.1: IV = (00 00 || SSRC || ROC || SEQ) XOR salt.
    uint8_t iv[12] = {0, 0, h[8], h[9], h[10], h[11], uint8_t(roc >> 24), uint8_t(roc >> 16),
                      uint8_t(roc >> 8), uint8_t(roc), h[2], h[3]};
    for (int i = 0; i < 12; ++i) iv[i] ^= keys_.salt[i];
    if (EVP_EncryptInit_ex(cipher_.get(), nullptr, nullptr, nullptr, iv) != 1 ||
        EVP_EncryptUpdate(cipher_.get(), nullptr, &len, h, static_cast<int>(*header_size)) != 1 ||
        EVP_EncryptUpdate(cipher_.get(), payload, &len, payload, payload_len) != 1 ||
        EVP_EncryptFinal_ex(cipher_.get(), payload + len, &len) != 1 ||
        EVP_CIPHER_CTX_ctrl(cipher_.get(), EVP_CTRL_GCM_GET_TAG, kAuthTagGcm, buffer.data() + rtp_size) != 1)
      return make_error("AES-GCM failed");
    return rtp_size + kAuthTagGcm;
  }

  // RFC 3711 4.1.1: IV = salt·2^16 XOR SSRC·2^64 XOR index·2^16.
  uint8_t iv[16] = {};
  std::memcpy(iv, keys_.salt.data(), 14);
  for (int i = 0; i < 4; ++i) iv[4 + i] ^= h[8 + i];
  for (int i = 0; i < 6; ++i) iv[8 + i] ^= static_cast<uint8_t>(index >> (8 * (5 - i)));
  if (EVP_EncryptInit_ex(cipher_.get(), nullptr, nullptr, nullptr, iv) != 1 ||
      EVP_EncryptUpdate(cipher_.get(), payload, &len, payload, payload_len) != 1)
    return make_error("AES-CTR failed");
  // RFC 3711 4.2: HMAC-SHA1 over the packet and the ROC, truncated to 80 bits.
  uint8_t roc_bytes[4] = {uint8_t(roc >> 24), uint8_t(roc >> 16), uint8_t(roc >> 8), uint8_t(roc)};
  uint8_t tag[20];
  size_t tag_len = 0;
  if (EVP_MAC_init(mac_.get(), nullptr, 0, nullptr) != 1 || EVP_MAC_update(mac_.get(), buffer.data(), rtp_size) != 1 ||
      EVP_MAC_update(mac_.get(), roc_bytes, 4) != 1 || EVP_MAC_final(mac_.get(), tag, &tag_len, sizeof tag) != 1)
    return make_error("HMAC-SHA1 failed");
  std::memcpy(buffer.data() + rtp_size, tag, kAuthTagCm);
  return rtp_size + kAuthTagCm;
}

}  // namespace anchorcast::webrtc
