// What a DTLS-SRTP handshake yields (RFC 5764 4.2): the negotiated protection profile
// and one master key + salt per direction.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

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

}  // namespace anchorcast::webrtc
