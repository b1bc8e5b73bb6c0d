// What a DTLS-SRTP handshake yields (RFC 5764 4.2): the negotiated protection profile
// and one master key + salt per direction; and the session keys derived from them
// (RFC 3711 4.3) for the OpenSSL SRTP and SRTCP paths.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "anchorcast/core/result.hpp"

struct evp_mac_ctx_st;

namespace anchorcast::webrtc {

enum class SrtpProfile : uint8_t {
  aes128_cm_sha1_80,  // RFC 5764 SRTP_AES128_CM_HMAC_SHA1_80
  aead_aes_128_gcm,   // RFC 7714 SRTP_AEAD_AES_128_GCM
};

const char* srtp_profile_name(SrtpProfile profile);
// Master key + master salt bytes of a profile: 16 + 14 (CM) or 16 + 12 (GCM).
size_t srtp_key_length(SrtpProfile profile);
size_t srtp_salt_length(SrtpProfile profile);

struct SrtpMasterKey {
  std::array<uint8_t, 32> bytes{};  // key || salt
  size_t size = 0;
  std::span<const uint8_t> span() const { return {bytes.data(), size}; }
};

struct SrtpKeys {
  SrtpProfile profile = SrtpProfile::aes128_cm_sha1_80;
  SrtpMasterKey local;   // protects what this side sends
  SrtpMasterKey remote;  // unprotects what the peer sends
};

// The session keys of one direction for RTP or for RTCP (RFC 3711 4.3.1 labels 0–2 or
// 3–5), from the master key and salt a DTLS handshake exported. Wiped when destroyed.
struct SrtpSessionKeys {
  std::array<uint8_t, 16> encryption{};
  std::array<uint8_t, 20> authentication{};  // HMAC-SHA1 key (AES-CM profile only)
  std::array<uint8_t, 14> salt{};            // the GCM profile uses the first 12 bytes
  SrtpSessionKeys() = default;
  SrtpSessionKeys(const SrtpSessionKeys&) = default;
  SrtpSessionKeys& operator=(const SrtpSessionKeys&) = default;
  ~SrtpSessionKeys();
};

enum class SrtpChannel : uint8_t { rtp, rtcp };

// The AES-CM PRF keyed with the master key (RFC 3711 4.3.3; a 12-byte GCM salt is
// zero-padded to 14, RFC 7714 11 and libsrtp).
Result<SrtpSessionKeys> derive_srtp_session_keys(SrtpProfile profile, std::span<const uint8_t> master_key_salt,
                                                 SrtpChannel channel);

// An HMAC-SHA1 context keyed for SRTP/SRTCP authentication (reinitialised per packet).
using HmacContext = std::unique_ptr<evp_mac_ctx_st, void (*)(evp_mac_ctx_st*)>;
Result<HmacContext> make_hmac_sha1(std::span<const uint8_t> key);

}  // namespace anchorcast::webrtc
