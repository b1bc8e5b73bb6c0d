// HEVC sequence parameter set (ITU-T H.265 §7.3.2.2.1), up to the bit depths: what a
// relay needs — profile/tier/level, chroma format, displayed picture size, bit depth.
#pragma once

#include <cstdint>
#include <span>

#include "anchorcast/core/result.hpp"
#include "relay/protocol/hevc/profile_tier_level.hpp"

namespace anchorcast::hevc {

struct Sps {
  uint8_t vps_id = 0;                 // sps_video_parameter_set_id
  uint8_t max_sub_layers_minus1 = 0;  // sps_max_sub_layers_minus1, 0..6
  bool temporal_id_nesting = false;   // sps_temporal_id_nesting_flag
  ProfileTierLevel profile_tier_level;
  uint32_t sps_id = 0;                // sps_seq_parameter_set_id, 0..15
  uint32_t chroma_format_idc = 1;     // 0 monochrome, 1 4:2:0, 2 4:2:2, 3 4:4:4
  bool separate_colour_plane = false;
  uint32_t coded_width = 0;           // pic_width_in_luma_samples
  uint32_t coded_height = 0;          // pic_height_in_luma_samples
  int width = 0;                      // luma samples, after the conformance window
  int height = 0;
  uint32_t bit_depth_luma = 8;
  uint32_t bit_depth_chroma = 8;
};

// `nal` is the whole SPS NAL unit, 2-byte header first, emulation prevention bytes still
// in (they are removed here). Only SPSs of the base layer (nuh_layer_id 0) are read.
Result<Sps> parse_sps(std::span<const uint8_t> nal);

}  // namespace anchorcast::hevc
