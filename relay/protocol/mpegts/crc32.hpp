// The CRC_32 of MPEG-2 PSI sections (ITU-T H.222.0 Annex A): polynomial 0x04C11DB7,
// MSB first, initial value 0xFFFFFFFF, no final XOR. A whole section including its
// CRC_32 field gives 0.
#pragma once

#include <cstdint>
#include <span>

namespace anchorcast::mpegts {

uint32_t crc32_mpeg2(std::span<const uint8_t> bytes);

}  // namespace anchorcast::mpegts
