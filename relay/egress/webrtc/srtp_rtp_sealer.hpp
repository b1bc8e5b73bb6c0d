// The per-packet hot path of SRTP: protecting outgoing RTP with OpenSSL's AES (AES-NI)
// directly. Debian builds libsrtp2 against NSS, which creates a PKCS#11 context per
// packet: measured 50 % of the WebRTC I/O thread at 500 viewers. Keys, IVs and tags
// follow RFC 3711 (AES-CM + HMAC-SHA1-80) and RFC 7714 (AEAD AES-128-GCM) exactly;
// the unit tests check every byte against libsrtp's own output. SRTCP is srtcp_cipher.hpp.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>

#include "anchorcast/core/result.hpp"
#include "relay/egress/webrtc/srtp_keys.hpp"

struct evp_cipher_ctx_st;

namespace anchorcast::webrtc {

class SrtpRtpSealer {
 public:
  static constexpr size_t kMaxPacketBytes = 1500;  // RTP in; the SRTP tag goes after it

  static Result<SrtpRtpSealer> create(SrtpProfile profile, std::span<const uint8_t> master_key_salt);
  SrtpRtpSealer(SrtpRtpSealer&&) noexcept;
  SrtpRtpSealer& operator=(SrtpRtpSealer&&) noexcept;
  ~SrtpRtpSealer();

  // Protects the `rtp_size`-byte packet at the start of `buffer` in place; `buffer` has
  // room for the tag (16 bytes). Returns the SRTP size. A sequence number sent before
  // (a retransmission) is protected again with the same index.
  Result<size_t> seal(std::span<uint8_t> buffer, size_t rtp_size);

 private:
  struct Ssrc {
    uint32_t ssrc = 0;
    bool used = false;
    uint32_t roc = 0;
    uint16_t highest = 0;
  };
  SrtpRtpSealer() = default;
  uint64_t packet_index(uint32_t ssrc, uint16_t sequence);

  SrtpProfile profile_ = SrtpProfile::aes128_cm_sha1_80;
  std::unique_ptr<evp_cipher_ctx_st, void (*)(evp_cipher_ctx_st*)> cipher_{nullptr, nullptr};
  HmacContext mac_{nullptr, nullptr};
  SrtpSessionKeys keys_;
  std::array<Ssrc, 4> ssrcs_{};  // a session sends on two SSRCs; a few spare
};

}  // namespace anchorcast::webrtc
