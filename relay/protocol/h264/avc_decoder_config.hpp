// AVCDecoderConfigurationRecord (ISO/IEC 14496-15 §5.2.4.1): the H.264 decoder
// configuration FLV/RTMP and MP4 carry as "sequence header": profile, level, the NAL
// length size used by the access units, and the SPS/PPS lists.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "anchorcast/core/result.hpp"

namespace anchorcast::h264 {

struct AvcDecoderConfig {
  uint8_t profile_idc = 0;            // AVCProfileIndication
  uint8_t profile_compatibility = 0;  // constraint flags byte of the SPS
  uint8_t level_idc = 0;              // AVCLevelIndication
  int length_size = 4;                // lengthSizeMinusOne + 1: 1, 2 or 4
  std::vector<std::vector<uint8_t>> sps;  // whole NAL units, header byte first
  std::vector<std::vector<uint8_t>> pps;
  // §5.2.4.1.1: present for profile_idc 100, 110, 122 and 144. Older muxers omit it,
  // so a record without it still parses; `has_high_profile_fields` says which.
  bool has_high_profile_fields = false;
  uint8_t chroma_format = 1;
  uint8_t bit_depth_luma = 8;
  uint8_t bit_depth_chroma = 8;
  std::vector<std::vector<uint8_t>> sps_ext;
};

Result<AvcDecoderConfig> parse_avc_decoder_config(std::span<const uint8_t> bytes);

// Fails when a list or a NAL unit is too long for its field (31 SPS, 255 PPS, 65535
// bytes each).
Result<std::vector<uint8_t>> serialize_avc_decoder_config(const AvcDecoderConfig& config);

// The record a publisher that sends bare SPS/PPS (SRT/TS ingest, WebRTC) implies:
// profile and level from the SPS, 4-byte NAL lengths, and the high-profile fields
// from the parsed SPS where the profile needs them.
Result<std::vector<uint8_t>> build_avc_decoder_config(std::span<const uint8_t> sps,
                                                      std::span<const uint8_t> pps);

}  // namespace anchorcast::h264
