// RFC 3711 4.3: session keys from a DTLS-SRTP master key and salt, for the OpenSSL SRTP
// and SRTCP paths (srtp_rtp_sealer, srtcp_cipher).
#pragma once

#include <cstdint>
#include <span>

#include "anchorcast/core/result.hpp"

namespace anchorcast::webrtc {

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
