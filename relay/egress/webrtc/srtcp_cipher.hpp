// SRTCP with OpenSSL (AES-NI): the sender reports a session sends and the receiver
// reports, NACKs and PLIs it receives, RFC 3711 3.4 (AES-CM + HMAC-SHA1-80) and RFC 7714
// 9 (AEAD AES-128-GCM). Debian's libsrtp2 goes through NSS, which builds a PKCS#11
// context per call: ~20 µs per RTCP packet, 8 % of a core at 1000 viewers. The unit
// tests check every byte against libsrtp.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "anchorcast/core/result.hpp"
#include "relay/egress/webrtc/srtp_keys.hpp"

struct evp_cipher_ctx_st;

namespace anchorcast::webrtc {

class SrtcpCipher {
 public:
  static constexpr size_t kMaxPacketBytes = 1500;

  static Result<SrtcpCipher> create(SrtpProfile profile, std::span<const uint8_t> master_key_salt);
  SrtcpCipher(SrtcpCipher&&) noexcept;
  SrtcpCipher& operator=(SrtcpCipher&&) noexcept;
  ~SrtcpCipher();

  // Outbound: the compound RTCP packet sealed with its SSRC's next SRTCP index (1, 2, ...;
  // an index per SSRC, RFC 3711 3.2.3, as libsrtp). The span points into a buffer the
  // cipher reuses, valid until the next call.
  Result<std::span<const uint8_t>> protect(std::span<const uint8_t> rtcp);
  // Inbound, in place: checks the tag and the SSRC's replay window (an index seen before
  // or more than 64 behind the highest is refused), returns the plaintext prefix.
  Result<std::span<uint8_t>> unprotect(std::span<uint8_t> packet);

 private:
  SrtcpCipher() = default;
  // The IV of this profile for `ssrc` and SRTCP `index`.
  void iv(uint32_t ssrc, uint32_t index, std::span<uint8_t, 16> out) const;
  // One SSRC's SRTCP state: the next index out, the replay window in.
  struct Ssrc {
    uint32_t ssrc = 0;
    bool used = false;
    uint32_t next_index = 1;
    bool seen_any = false;
    uint32_t highest = 0;  // the highest index accepted
    uint64_t window = 0;   // bit k: highest − k was accepted
  };
  // The SSRC's slot; a new SSRC takes a free one, or the first when all are used.
  Ssrc& slot(uint32_t ssrc);
  const Ssrc* find(uint32_t ssrc) const;
  static bool replayed(const Ssrc& s, uint32_t index);
  static void remember(Ssrc& s, uint32_t index);

  SrtpProfile profile_ = SrtpProfile::aes128_cm_sha1_80;
  std::unique_ptr<evp_cipher_ctx_st, void (*)(evp_cipher_ctx_st*)> encrypt_{nullptr, nullptr};
  std::unique_ptr<evp_cipher_ctx_st, void (*)(evp_cipher_ctx_st*)> decrypt_{nullptr, nullptr};
  HmacContext mac_{nullptr, nullptr};
  SrtpSessionKeys keys_;
  std::array<Ssrc, 4> ssrcs_{};  // a session sends on two SSRCs, a viewer reports on one
  std::vector<uint8_t> out_;
};

}  // namespace anchorcast::webrtc
