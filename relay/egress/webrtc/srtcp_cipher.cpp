#include "relay/egress/webrtc/srtcp_cipher.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cstring>

#include "relay/protocol/bits/byte_order.hpp"

namespace anchorcast::webrtc {

namespace {

constexpr size_t kHeaderBytes = 8;   // RTCP header + sender SSRC: authenticated, never encrypted
constexpr size_t kTrailerBytes = 4;  // E flag + 31-bit SRTCP index
constexpr size_t kTagCm = 10;        // HMAC-SHA1-80
constexpr size_t kTagGcm = 16;
constexpr uint32_t kEncrypted = 0x80000000u;
constexpr uint32_t kMaxIndex = 0x7FFFFFFFu;
constexpr size_t kReplayWindow = 64;

using bits::load_be32;
using bits::store_be32;

using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, void (*)(EVP_CIPHER_CTX*)>;

}  // namespace

SrtcpCipher::SrtcpCipher(SrtcpCipher&&) noexcept = default;
SrtcpCipher& SrtcpCipher::operator=(SrtcpCipher&&) noexcept = default;
SrtcpCipher::~SrtcpCipher() = default;

Result<SrtcpCipher> SrtcpCipher::create(SrtpProfile profile, std::span<const uint8_t> master_key_salt) {
  auto keys = derive_srtp_session_keys(profile, master_key_salt, SrtpChannel::rtcp);
  if (!keys) return keys.error();
  SrtcpCipher c;
  c.profile_ = profile;
  c.keys_ = *keys;
  c.encrypt_ = CipherCtx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  c.decrypt_ = CipherCtx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  if (!c.encrypt_ || !c.decrypt_) return make_error("EVP_CIPHER_CTX_new failed");
  c.out_.resize(kMaxPacketBytes + kTrailerBytes + kTagGcm);
  if (profile == SrtpProfile::aead_aes_128_gcm) {
    for (EVP_CIPHER_CTX* ctx : {c.encrypt_.get(), c.decrypt_.get()}) {
      const int enc = ctx == c.encrypt_.get();
      if (EVP_CipherInit_ex(ctx, EVP_aes_128_gcm(), nullptr, nullptr, nullptr, enc) != 1 ||
          EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, 12, nullptr) != 1 ||
          EVP_CipherInit_ex(ctx, nullptr, nullptr, c.keys_.encryption.data(), nullptr, enc) != 1)
        return make_error("AES-GCM init failed");
    }
    return c;
  }
  // AES-CTR is its own inverse: both contexts encrypt.
  for (EVP_CIPHER_CTX* ctx : {c.encrypt_.get(), c.decrypt_.get()})
    if (EVP_EncryptInit_ex(ctx, EVP_aes_128_ctr(), nullptr, c.keys_.encryption.data(), nullptr) != 1)
      return make_error("AES-CTR init failed");
  auto mac = make_hmac_sha1(c.keys_.authentication);
  if (!mac) return mac.error();
  c.mac_ = std::move(*mac);
  return c;
}

void SrtcpCipher::iv(uint32_t ssrc, uint32_t index, std::span<uint8_t, 16> out) const {
  std::memset(out.data(), 0, out.size());
  if (profile_ == SrtpProfile::aead_aes_128_gcm) {
    // RFC 7714 9.1: IV = (00 00 || SSRC || 00 00 || 0 || SRTCP index) XOR salt; 12 bytes.
    store_be32(&out[2], ssrc);
    store_be32(&out[8], index);
    for (int i = 0; i < 12; ++i) out[i] ^= keys_.salt[i];
    return;
  }
  // RFC 3711 4.1.1 with the SRTCP index as i: salt·2^16 XOR SSRC·2^64 XOR i·2^16.
  std::memcpy(out.data(), keys_.salt.data(), 14);
  uint8_t s[4], i[4];
  store_be32(s, ssrc);
  store_be32(i, index);
  for (int k = 0; k < 4; ++k) out[4 + k] ^= s[k];
  for (int k = 0; k < 4; ++k) out[10 + k] ^= i[k];
}

Result<std::span<const uint8_t>> SrtcpCipher::protect(std::span<const uint8_t> rtcp) {
  if (rtcp.size() < kHeaderBytes || rtcp.size() > kMaxPacketBytes) return make_error("RTCP packet size out of range");
  const uint32_t ssrc = load_be32(&rtcp[4]);
  Ssrc& s = slot(ssrc);
  if (s.next_index > kMaxIndex) return make_error("SRTCP index exhausted (2^31 packets): rekey needed");
  const uint32_t index = s.next_index++;
  std::array<uint8_t, 16> nonce;
  iv(ssrc, index, nonce);
  uint8_t* out = out_.data();
  std::memcpy(out, rtcp.data(), kHeaderBytes);
  const int body = static_cast<int>(rtcp.size() - kHeaderBytes);
  uint8_t trailer[kTrailerBytes];
  store_be32(trailer, kEncrypted | index);
  int len = 0;
  EVP_CIPHER_CTX* ctx = encrypt_.get();
  if (profile_ == SrtpProfile::aead_aes_128_gcm) {
    // AAD: the 8 clear bytes, then the trailer; the tag follows the ciphertext and
    // precedes the trailer (RFC 7714 9.2, as libsrtp lays it out).
    uint8_t* tag = out + rtcp.size();
    if (EVP_EncryptInit_ex(ctx, nullptr, nullptr, nullptr, nonce.data()) != 1 ||
        EVP_EncryptUpdate(ctx, nullptr, &len, rtcp.data(), kHeaderBytes) != 1 ||
        EVP_EncryptUpdate(ctx, nullptr, &len, trailer, kTrailerBytes) != 1 ||
        EVP_EncryptUpdate(ctx, out + kHeaderBytes, &len, rtcp.data() + kHeaderBytes, body) != 1 ||
        EVP_EncryptFinal_ex(ctx, out + kHeaderBytes + len, &len) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, kTagGcm, tag) != 1)
      return make_error("SRTCP AES-GCM failed");
    std::memcpy(tag + kTagGcm, trailer, kTrailerBytes);
    return std::span<const uint8_t>(out, rtcp.size() + kTagGcm + kTrailerBytes);
  }
  // RFC 3711 3.4: encrypt after the 8 clear bytes, append E||index, then the HMAC over
  // everything before it, truncated to 80 bits.
  if (EVP_EncryptInit_ex(ctx, nullptr, nullptr, nullptr, nonce.data()) != 1 ||
      EVP_EncryptUpdate(ctx, out + kHeaderBytes, &len, rtcp.data() + kHeaderBytes, body) != 1)
    return make_error("SRTCP AES-CTR failed");
  std::memcpy(out + rtcp.size(), trailer, kTrailerBytes);
  const size_t authenticated = rtcp.size() + kTrailerBytes;
  uint8_t tag[20];
  size_t tag_len = 0;
  if (EVP_MAC_init(mac_.get(), nullptr, 0, nullptr) != 1 || EVP_MAC_update(mac_.get(), out, authenticated) != 1 ||
      EVP_MAC_final(mac_.get(), tag, &tag_len, sizeof tag) != 1)
    return make_error("SRTCP HMAC-SHA1 failed");
  std::memcpy(out + authenticated, tag, kTagCm);
  return std::span<const uint8_t>(out, authenticated + kTagCm);
}

SrtcpCipher::Ssrc& SrtcpCipher::slot(uint32_t ssrc) {
  for (auto& s : ssrcs_)
    if (s.used && s.ssrc == ssrc) return s;
  Ssrc* free = &ssrcs_[0];
  for (auto& s : ssrcs_)
    if (!s.used) {
      free = &s;
      break;
    }
  *free = Ssrc{};
  free->ssrc = ssrc;
  free->used = true;
  return *free;
}

const SrtcpCipher::Ssrc* SrtcpCipher::find(uint32_t ssrc) const {
  for (auto& s : ssrcs_)
    if (s.used && s.ssrc == ssrc) return &s;
  return nullptr;
}

bool SrtcpCipher::replayed(const Ssrc& s, uint32_t index) {
  if (!s.seen_any || index > s.highest) return false;
  const uint32_t behind = s.highest - index;
  return behind >= kReplayWindow || (s.window >> behind) & 1;
}

void SrtcpCipher::remember(Ssrc& s, uint32_t index) {
  if (!s.seen_any) {
    s.seen_any = true;
    s.highest = index;
    s.window = 1;
  } else if (index > s.highest) {
    const uint32_t ahead = index - s.highest;
    s.window = ahead >= kReplayWindow ? 1 : (s.window << ahead) | 1;
    s.highest = index;
  } else {
    s.window |= uint64_t(1) << (s.highest - index);
  }
}

Result<std::span<uint8_t>> SrtcpCipher::unprotect(std::span<uint8_t> packet) {
  const bool gcm = profile_ == SrtpProfile::aead_aes_128_gcm;
  const size_t tag_len = gcm ? kTagGcm : kTagCm;
  if (packet.size() < kHeaderBytes + kTrailerBytes + tag_len || packet.size() > kMaxPacketBytes + kTrailerBytes + tag_len)
    return make_error("SRTCP packet size out of range");
  // GCM: … ciphertext | tag | trailer. CM: … ciphertext | trailer | tag.
  const size_t trailer_at = gcm ? packet.size() - kTrailerBytes : packet.size() - tag_len - kTrailerBytes;
  const size_t body_end = gcm ? packet.size() - kTrailerBytes - tag_len : trailer_at;
  const uint32_t word = load_be32(&packet[trailer_at]);
  const bool encrypted = (word & kEncrypted) != 0;
  const uint32_t index = word & kMaxIndex;
  const uint32_t ssrc = load_be32(&packet[4]);
  if (const Ssrc* known = find(ssrc); known && replayed(*known, index)) return make_error("SRTCP replayed or too old");
  std::array<uint8_t, 16> nonce;
  iv(ssrc, index, nonce);
  uint8_t* body = packet.data() + kHeaderBytes;
  const int body_len = static_cast<int>(body_end - kHeaderBytes);
  int len = 0;
  EVP_CIPHER_CTX* ctx = decrypt_.get();
  if (gcm) {
    if (!encrypted) return make_error("SRTCP without encryption is not accepted");
    uint8_t* tag = packet.data() + body_end;
    if (EVP_DecryptInit_ex(ctx, nullptr, nullptr, nullptr, nonce.data()) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, kTagGcm, tag) != 1 ||
        EVP_DecryptUpdate(ctx, nullptr, &len, packet.data(), kHeaderBytes) != 1 ||
        EVP_DecryptUpdate(ctx, nullptr, &len, packet.data() + trailer_at, kTrailerBytes) != 1 ||
        EVP_DecryptUpdate(ctx, body, &len, body, body_len) != 1)
      return make_error("SRTCP AES-GCM failed");
    if (EVP_DecryptFinal_ex(ctx, body + len, &len) != 1) return make_error("SRTCP authentication failed");
  } else {
    uint8_t tag[20];
    size_t computed = 0;
    if (EVP_MAC_init(mac_.get(), nullptr, 0, nullptr) != 1 ||
        EVP_MAC_update(mac_.get(), packet.data(), trailer_at + kTrailerBytes) != 1 ||
        EVP_MAC_final(mac_.get(), tag, &computed, sizeof tag) != 1)
      return make_error("SRTCP HMAC-SHA1 failed");
    if (CRYPTO_memcmp(tag, packet.data() + trailer_at + kTrailerBytes, kTagCm) != 0)
      return make_error("SRTCP authentication failed");
    if (encrypted && (EVP_EncryptInit_ex(ctx, nullptr, nullptr, nullptr, nonce.data()) != 1 ||
                      EVP_EncryptUpdate(ctx, body, &len, body, body_len) != 1))
      return make_error("SRTCP AES-CTR failed");
  }
  remember(slot(ssrc), index);  // only once authentic: a forgery takes no slot
  return packet.first(body_end);
}

}  // namespace anchorcast::webrtc
