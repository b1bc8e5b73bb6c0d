// H.264 sequence parameter set (ITU-T H.264 §7.3.2.1.1, VUI in Annex E.1.1): what a
// relay needs from it — picture size after cropping, profile/level, frame rate.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "anchorcast/core/result.hpp"

namespace anchorcast::h264 {

struct Sps {
  uint8_t profile_idc = 0;
  uint8_t constraint_flags = 0;  // constraint_set0..5_flag + reserved_zero_2bits, as sent
  uint8_t level_idc = 0;
  uint32_t sps_id = 0;
  uint32_t chroma_format_idc = 1;
  uint32_t bit_depth_luma = 8;
  uint32_t bit_depth_chroma = 8;
  bool frame_mbs_only = true;
  int width = 0;   // luma samples, after frame cropping
  int height = 0;  // luma samples, after frame cropping
  // VUI timing (E.2.1); 0 when absent.
  uint32_t num_units_in_tick = 0;
  uint32_t time_scale = 0;
  bool fixed_frame_rate = false;
  double fps = 0;  // time_scale / (2 * num_units_in_tick) when timing is present, else 0

  // The RFC 6184 §8.1 "profile-level-id": profile_idc, constraint byte, level_idc as 6
  // lowercase hex digits ("64001f").
  std::string profile_level_id() const;
};

// `nal` is the whole SPS NAL unit, header byte first, emulation prevention bytes
// still in (they are removed here).
Result<Sps> parse_sps(std::span<const uint8_t> nal);

}  // namespace anchorcast::h264
