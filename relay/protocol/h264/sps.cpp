#include "relay/protocol/h264/sps.hpp"

#include <cstdio>

#include "relay/protocol/bits/bit_reader.hpp"
#include "relay/protocol/h264/nal_unit.hpp"

namespace anchorcast::h264 {
using bits::BitReader;

namespace {

// Largest picture accepted, in macroblocks per side: 16384 luma samples, twice the
// widest picture any level of Table A-1 allows. Keeps width/height arithmetic far
// from overflow whatever the exp-Golomb codes say.
constexpr uint32_t kMaxMbsPerSide = 1024;

// §7.3.2.1.1.1 scaling_list(): only walked over, the values do not matter to us.
// §7.4.2.1.1.1 bounds delta_scale to -128..127; anything else is a corrupt SPS (and
// would overflow the arithmetic below: found by fuzz_avc_config).
bool skip_scaling_list(BitReader& br, int size) {
  int last_scale = 8;
  int next_scale = 8;
  for (int j = 0; j < size && !br.failed(); ++j) {
    if (next_scale != 0) {
      int32_t delta = br.read_se();
      if (delta < -128 || delta > 127) return false;
      next_scale = ((last_scale + delta) % 256 + 256) % 256;
    }
    last_scale = next_scale == 0 ? last_scale : next_scale;
  }
  return true;
}

bool has_chroma_info(uint8_t profile_idc) {
  // §7.3.2.1.1: the profiles whose SPS carries chroma_format_idc and bit depths.
  switch (profile_idc) {
    case 100: case 110: case 122: case 244: case 44: case 83:
    case 86: case 118: case 128: case 138: case 139: case 134: case 135:
      return true;
    default:
      return false;
  }
}

// VUI up to timing_info (Annex E.1.1); the rest (HRD, bitstream restriction) is not
// needed. A truncated VUI is common enough in the wild that it only loses the timing.
void parse_vui_timing(BitReader& br, Sps& sps) {
  if (br.read_flag()) {                     // aspect_ratio_info_present_flag
    if (br.read_bits(8) == 255) br.skip_bits(32);  // Extended_SAR: sar_width, sar_height
  }
  if (br.read_flag()) br.skip_bits(1);      // overscan_info_present -> overscan_appropriate
  if (br.read_flag()) {                     // video_signal_type_present_flag
    br.skip_bits(4);                        // video_format, video_full_range_flag
    if (br.read_flag()) br.skip_bits(24);   // colour primaries, transfer, matrix
  }
  if (br.read_flag()) {                     // chroma_loc_info_present_flag
    br.read_ue();
    br.read_ue();
  }
  if (!br.read_flag()) return;              // timing_info_present_flag
  uint32_t units = br.read_bits(32);
  uint32_t scale = br.read_bits(32);
  bool fixed = br.read_flag();
  if (br.failed() || units == 0 || scale == 0) return;
  sps.num_units_in_tick = units;
  sps.time_scale = scale;
  sps.fixed_frame_rate = fixed;
  // E.2.1: a frame lasts two ticks for progressive coding (one tick per field).
  double fps = static_cast<double>(scale) / (2.0 * units);
  if (fps > 0 && fps <= 1000) sps.fps = fps;
}

}  // namespace

std::string Sps::profile_level_id() const {
  char buf[7];
  std::snprintf(buf, sizeof buf, "%02x%02x%02x", profile_idc, constraint_flags, level_idc);
  return buf;
}

Result<Sps> parse_sps(std::span<const uint8_t> nal) {
  if (nal.size() < 4) return make_error("SPS is " + std::to_string(nal.size()) + " bytes, need at least 4");
  if (nal_type(nal[0]) != NalType::sps)
    return make_error("NAL unit type " + std::to_string(nal[0] & 0x1F) + " is not an SPS (7)");
  const std::vector<uint8_t> rbsp = nal_to_rbsp(nal);
  BitReader br(std::span<const uint8_t>(rbsp).subspan(1));
  Sps sps;
  sps.profile_idc = static_cast<uint8_t>(br.read_bits(8));
  sps.constraint_flags = static_cast<uint8_t>(br.read_bits(8));
  sps.level_idc = static_cast<uint8_t>(br.read_bits(8));
  sps.sps_id = br.read_ue();
  if (sps.sps_id > 31) return make_error("SPS id " + std::to_string(sps.sps_id) + " out of range (max 31)");

  bool separate_colour_plane = false;
  if (has_chroma_info(sps.profile_idc)) {
    sps.chroma_format_idc = br.read_ue();
    if (sps.chroma_format_idc > 3)
      return make_error("SPS chroma_format_idc " + std::to_string(sps.chroma_format_idc) + " out of range");
    if (sps.chroma_format_idc == 3) separate_colour_plane = br.read_flag();
    uint32_t luma = br.read_ue();
    uint32_t chroma = br.read_ue();
    if (luma > 6 || chroma > 6) return make_error("SPS bit depth out of range (max 14)");
    sps.bit_depth_luma = 8 + luma;
    sps.bit_depth_chroma = 8 + chroma;
    br.skip_bits(1);  // qpprime_y_zero_transform_bypass_flag
    if (br.read_flag()) {  // seq_scaling_matrix_present_flag
      int lists = sps.chroma_format_idc != 3 ? 8 : 12;
      for (int i = 0; i < lists && !br.failed(); ++i)
        if (br.read_flag() && !skip_scaling_list(br, i < 6 ? 16 : 64))
          return make_error("SPS scaling list delta_scale out of range (-128..127)");
    }
  }
  uint32_t log2_max_frame_num_minus4 = br.read_ue();
  if (log2_max_frame_num_minus4 > 12) return make_error("SPS log2_max_frame_num_minus4 out of range (max 12)");
  uint32_t poc_type = br.read_ue();
  if (poc_type == 0) {
    if (br.read_ue() > 12) return make_error("SPS log2_max_pic_order_cnt_lsb_minus4 out of range (max 12)");
  } else if (poc_type == 1) {
    br.skip_bits(1);  // delta_pic_order_always_zero_flag
    br.read_se();     // offset_for_non_ref_pic
    br.read_se();     // offset_for_top_to_bottom_field
    uint32_t cycle = br.read_ue();
    if (cycle > 255) return make_error("SPS num_ref_frames_in_pic_order_cnt_cycle out of range (max 255)");
    for (uint32_t i = 0; i < cycle && !br.failed(); ++i) br.read_se();
  } else if (poc_type != 2) {
    return make_error("SPS pic_order_cnt_type " + std::to_string(poc_type) + " out of range (max 2)");
  }
  br.read_ue();       // max_num_ref_frames
  br.skip_bits(1);    // gaps_in_frame_num_value_allowed_flag
  uint32_t width_mbs_minus1 = br.read_ue();
  uint32_t height_map_units_minus1 = br.read_ue();
  sps.frame_mbs_only = br.read_flag();
  if (!sps.frame_mbs_only) br.skip_bits(1);  // mb_adaptive_frame_field_flag
  br.skip_bits(1);    // direct_8x8_inference_flag
  uint32_t crop_left = 0, crop_right = 0, crop_top = 0, crop_bottom = 0;
  if (br.read_flag()) {  // frame_cropping_flag
    crop_left = br.read_ue();
    crop_right = br.read_ue();
    crop_top = br.read_ue();
    crop_bottom = br.read_ue();
  }
  if (br.failed()) return make_error("SPS is truncated or corrupt before its VUI");
  if (width_mbs_minus1 >= kMaxMbsPerSide || height_map_units_minus1 >= kMaxMbsPerSide)
    return make_error("SPS picture size of " + std::to_string(uint64_t{width_mbs_minus1} + 1) + "x" +
                      std::to_string(uint64_t{height_map_units_minus1} + 1) +
                      " macroblocks is beyond any H.264 level");

  // §7.4.2.1.1: frame size from macroblocks, minus cropping in chroma-dependent units.
  const int64_t frame_height_factor = sps.frame_mbs_only ? 1 : 2;
  int64_t width = (int64_t{width_mbs_minus1} + 1) * 16;
  int64_t height = frame_height_factor * (int64_t{height_map_units_minus1} + 1) * 16;
  int64_t crop_unit_x = 1;
  int64_t crop_unit_y = frame_height_factor;
  const uint32_t chroma_array_type = separate_colour_plane ? 0 : sps.chroma_format_idc;
  if (chroma_array_type != 0) {
    const int64_t sub_width_c = chroma_array_type == 3 ? 1 : 2;
    const int64_t sub_height_c = chroma_array_type == 1 ? 2 : 1;
    crop_unit_x = sub_width_c;
    crop_unit_y = sub_height_c * frame_height_factor;
  }
  const int64_t crop_x = crop_unit_x * (int64_t{crop_left} + crop_right);
  const int64_t crop_y = crop_unit_y * (int64_t{crop_top} + crop_bottom);
  if (crop_x >= width || crop_y >= height)
    return make_error("SPS frame cropping removes the whole picture");
  sps.width = static_cast<int>(width - crop_x);
  sps.height = static_cast<int>(height - crop_y);

  if (br.read_flag()) {  // vui_parameters_present_flag
    BitReader vui = br;
    parse_vui_timing(vui, sps);
  }
  return sps;
}

}  // namespace anchorcast::h264
