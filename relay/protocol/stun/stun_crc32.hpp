// The CRC-32 of STUN's FINGERPRINT (RFC 8489 §14.7, ISO 3309 / ITU-T V.42: reflected
// polynomial 0xEDB88320, initial and final XOR 0xFFFFFFFF) — not the MPEG-2 CRC of
// protocol/mpegts/crc32.hpp.
#pragma once

#include <cstdint>
#include <span>

namespace anchorcast::stun {

uint32_t crc32_iso_hdlc(std::span<const uint8_t> bytes);

}  // namespace anchorcast::stun
