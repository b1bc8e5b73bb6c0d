// ADTS (ISO/IEC 14496-3 §1.A.2.2): the self-framing AAC transport MPEG-TS carries
// (H.222.0 stream type 0x0F). We build headers for the TS muxer and parse them for
// TS ingest.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "anchorcast/core/result.hpp"
#include "relay/protocol/aac/audio_specific_config.hpp"

namespace anchorcast::aac {

inline constexpr size_t kAdtsHeaderSize = 7;     // protection_absent = 1
inline constexpr size_t kAdtsMaxFrameLength = 8191;  // aac_frame_length is 13 bits

struct AdtsHeader {
  uint8_t object_type = kAacLc;  // profile + 1
  uint8_t sampling_index = 0;
  uint8_t channel_config = 0;
  bool has_crc = false;          // !protection_absent
  uint16_t frame_length = 0;     // header + payload bytes
  uint8_t raw_data_blocks = 1;   // number_of_raw_data_blocks_in_frame + 1

  size_t header_size() const { return has_crc ? 9 : 7; }
  uint32_t sample_rate() const { return sample_rate_for_index(sampling_index); }
  // The AudioSpecificConfig fields this header implies (AAC Main/LC/SSR/LTP).
  AudioSpecificConfig to_audio_specific_config() const;
};

// Parses the header at the start of `bytes` (not the payload, which may be partial).
Result<AdtsHeader> parse_adts_header(std::span<const uint8_t> bytes);

// A 7-byte header (no CRC) for one raw AAC frame of `payload_size` bytes. ADTS has a
// 2-bit profile and no explicit rate: HE-AAC is written as its AAC LC core (implicit
// SBR), and configs with an explicit rate or another object type fail.
Result<std::array<uint8_t, kAdtsHeaderSize>> build_adts_header(const AudioSpecificConfig& config,
                                                                size_t payload_size);

}  // namespace anchorcast::aac
