// HEVCDecoderConfigurationRecord (ISO/IEC 14496-15 §8.3.3.1): the HEVC decoder
// configuration an MP4 `hvcC` box and an Enhanced RTMP `SequenceStart` carry: profile,
// tier and level, the NAL length size of the access units, and the parameter sets.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "anchorcast/core/result.hpp"
#include "relay/protocol/hevc/profile_tier_level.hpp"

namespace anchorcast::hevc {

// One of the record's arrays: NAL units all of one type (VPS, SPS, PPS or SEI).
struct HevcNalArray {
  // array_completeness: every parameter set of this type is here, none in band
  // (§8.3.3.1.3); what an `hvc1` sample entry requires.
  bool complete = false;
  uint8_t nal_type = 0;                         // NAL_unit_type, 6 bits
  std::vector<std::vector<uint8_t>> nal_units;  // whole NAL units, 2-byte header first

  bool operator==(const HevcNalArray&) const = default;
};

struct HevcDecoderConfig {
  // configurationVersion is always 1. The general_* fields of the SPS, bit for bit.
  ProfileTierLevel general;
  uint16_t min_spatial_segmentation_idc = 0;  // 12 bits; 0: no guarantee
  uint8_t parallelism_type = 0;               // 2 bits; 0: unknown
  uint8_t chroma_format = 1;                  // chroma_format_idc
  uint8_t bit_depth_luma = 8;                 // 8..15 (3-bit field minus 8)
  uint8_t bit_depth_chroma = 8;
  uint16_t avg_frame_rate = 0;                // frames per 256 s; 0: unknown
  uint8_t constant_frame_rate = 0;            // 2 bits
  uint8_t num_temporal_layers = 0;            // 3 bits; 0: unknown
  bool temporal_id_nested = false;
  int length_size = 4;                        // lengthSizeMinusOne + 1: 1, 2 or 4
  std::vector<HevcNalArray> arrays;

  bool operator==(const HevcDecoderConfig&) const = default;
};

// Caps on what a record from the network may hold; real ones have 3 or 4 arrays of one
// NAL unit each.
inline constexpr size_t kMaxHevcNalArrays = 16;
inline constexpr size_t kMaxNalUnitsPerArray = 64;

Result<HevcDecoderConfig> parse_hevc_decoder_config(std::span<const uint8_t> bytes);

// Fails when a field is out of its width, a cap is exceeded, or a NAL unit is not 2..65535
// bytes.
Result<std::vector<uint8_t>> serialize_hevc_decoder_config(const HevcDecoderConfig& config);

// The record a publisher that sends bare parameter sets (SRT/TS ingest) implies:
// profile, tier, level and flags from the SPS's profile_tier_level, chroma format and
// bit depths from the SPS, 4-byte NAL lengths, one array each of VPS, SPS, PPS, not
// marked complete.
Result<std::vector<uint8_t>> build_hevc_decoder_config(std::span<const uint8_t> vps,
                                                       std::span<const uint8_t> sps,
                                                       std::span<const uint8_t> pps);

}  // namespace anchorcast::hevc
