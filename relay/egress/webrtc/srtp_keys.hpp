// What a DTLS-SRTP handshake yields (RFC 5764 4.2): the negotiated protection profile
// and one master key + salt per direction; and the session keys derived from them
// (RFC 3711 4.3) for the OpenSSL SRTP and SRTCP paths.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "anchorcast/core/result.hpp"

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

// The labels of RFC 3711 4.3.1 (RFC 7714 uses the same).
enum class SrtpKeyLabel : uint8_t {
  rtp_encryption = 0x00,
  rtp_authentication = 0x01,
  rtp_salt = 0x02,
  rtcp_encryption = 0x03,
  rtcp_authentication = 0x04,
  rtcp_salt = 0x05,
};

// The AES-CM PRF keyed with the master key, x = label at byte 7 XOR the master salt (a
// 12-byte GCM salt is zero-padded to 14, RFC 7714 11 and libsrtp). Fills `out`.
Status derive_srtp_key(std::span<const uint8_t> master_key, std::span<const uint8_t> master_salt, SrtpKeyLabel label,
                       std::span<uint8_t> out);

}  // namespace anchorcast::webrtc
