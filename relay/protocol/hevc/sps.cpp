#include "relay/protocol/hevc/sps.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "relay/protocol/bits/bit_reader.hpp"
#include "relay/protocol/h264/nal_unit.hpp"
#include "relay/protocol/hevc/nal_unit.hpp"

namespace anchorcast::hevc {
using bits::BitReader;

namespace {

// Largest picture side accepted, in luma samples: Sqrt(MaxLumaPs * 8) for level 6.2,
// the largest of Table A.8 (§A.4.1 limits pic_width/height_in_luma_samples so).
constexpr uint32_t kMaxLumaSamplesPerSide = 16888;

// Every field read here fits in the first 512 bytes of any SPS: a 2-byte header, a
// profile_tier_level() of at most 86 bytes, ten exp-Golomb codes of at most 63 bits,
// with room for an emulation prevention byte in every third byte. So only that prefix
// is unescaped, whatever the size of the NAL unit.
constexpr size_t kSpsPrefixBytes = 512;

}  // namespace

Result<Sps> parse_sps(std::span<const uint8_t> nal) {
  auto header = parse_nal_header(nal);
  if (!header) return make_error("SPS: " + header.error().message);
  if (header->type != NalType::sps)
    return make_error("HEVC NAL unit type " + std::to_string(static_cast<int>(header->type)) +
                      " is not an SPS (33)");
  if (header->layer_id != 0)
    return make_error("HEVC SPS of layer " + std::to_string(header->layer_id) +
                      " is a multi-layer extension (Annex F); only the base layer is read");
  // H.265 §7.4.2 emulation prevention is byte for byte that of H.264 §7.4.1.
  const std::vector<uint8_t> rbsp = h264::nal_to_rbsp(nal.first(std::min(nal.size(), kSpsPrefixBytes)));
  BitReader br(std::span<const uint8_t>(rbsp).subspan(2));

  Sps sps;
  sps.vps_id = static_cast<uint8_t>(br.read_bits(4));
  sps.max_sub_layers_minus1 = static_cast<uint8_t>(br.read_bits(3));
  if (sps.max_sub_layers_minus1 > 6)
    return make_error("HEVC SPS sps_max_sub_layers_minus1 is 7 (must be 0..6)");
  sps.temporal_id_nesting = br.read_flag();
  sps.profile_tier_level = read_profile_tier_level(br, sps.max_sub_layers_minus1);
  sps.sps_id = br.read_ue();
  if (sps.sps_id > 15)
    return make_error("HEVC SPS sps_seq_parameter_set_id " + std::to_string(sps.sps_id) + " out of range (max 15)");
  sps.chroma_format_idc = br.read_ue();
  if (sps.chroma_format_idc > 3)
    return make_error("HEVC SPS chroma_format_idc " + std::to_string(sps.chroma_format_idc) + " out of range (max 3)");
  if (sps.chroma_format_idc == 3) sps.separate_colour_plane = br.read_flag();
  sps.coded_width = br.read_ue();
  sps.coded_height = br.read_ue();
  uint32_t left = 0, right = 0, top = 0, bottom = 0;
  if (br.read_flag()) {  // conformance_window_flag
    left = br.read_ue();
    right = br.read_ue();
    top = br.read_ue();
    bottom = br.read_ue();
  }
  const uint32_t luma_minus8 = br.read_ue();
  const uint32_t chroma_minus8 = br.read_ue();
  if (br.failed()) return make_error("HEVC SPS is truncated or corrupt before its bit depths");
  if (sps.coded_width == 0 || sps.coded_height == 0 || sps.coded_width > kMaxLumaSamplesPerSide ||
      sps.coded_height > kMaxLumaSamplesPerSide)
    return make_error("HEVC SPS picture size " + std::to_string(sps.coded_width) + "x" +
                      std::to_string(sps.coded_height) + " is outside 1.." +
                      std::to_string(kMaxLumaSamplesPerSide) + " per side (H.265 Table A.8)");
  // §7.4.3.2.1: bit_depth_*_minus8 range 0..8.
  if (luma_minus8 > 8 || chroma_minus8 > 8) return make_error("HEVC SPS bit depth out of range (max 16)");
  sps.bit_depth_luma = 8 + luma_minus8;
  sps.bit_depth_chroma = 8 + chroma_minus8;

  // §7.4.3.2.1: conformance window offsets count chroma samples, SubWidthC x SubHeightC
  // luma samples each (Table 6-1; 1x1 for monochrome and separate colour planes).
  const uint32_t chroma_array_type = sps.separate_colour_plane ? 0 : sps.chroma_format_idc;
  const int64_t sub_width_c = chroma_array_type == 1 || chroma_array_type == 2 ? 2 : 1;
  const int64_t sub_height_c = chroma_array_type == 1 ? 2 : 1;
  const int64_t crop_x = sub_width_c * (int64_t{left} + right);
  const int64_t crop_y = sub_height_c * (int64_t{top} + bottom);
  if (crop_x >= sps.coded_width || crop_y >= sps.coded_height)
    return make_error("HEVC SPS conformance window removes the whole picture");
  sps.width = static_cast<int>(sps.coded_width - crop_x);
  sps.height = static_cast<int>(sps.coded_height - crop_y);
  return sps;
}

}  // namespace anchorcast::hevc
