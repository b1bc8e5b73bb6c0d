#include "relay/protocol/hevc/hevc_decoder_config.hpp"

#include <string>
#include <utility>

#include "relay/protocol/bits/byte_order.hpp"
#include "relay/protocol/bits/byte_writer.hpp"
#include "relay/protocol/hevc/nal_unit.hpp"
#include "relay/protocol/hevc/sps.hpp"

namespace anchorcast::hevc {
namespace {

// configurationVersion .. numOfArrays.
constexpr size_t kFixedPartBytes = 23;

std::string where(size_t array, size_t unit) {
  return "HEVCDecoderConfigurationRecord array #" + std::to_string(array) + " NAL unit #" + std::to_string(unit);
}

// A unit of array #`array` (of type `type`): a valid header of that type (§8.3.3.1.3:
// "NAL units of the type indicated ... shall be all of that type").
Status check_nal_unit(std::span<const uint8_t> nal, uint8_t type, size_t array, size_t unit) {
  auto header = parse_nal_header(nal);
  if (!header) return make_error(where(array, unit) + ": " + header.error().message);
  if (static_cast<uint8_t>(header->type) != type)
    return make_error(where(array, unit) + " has type " + std::to_string(static_cast<int>(header->type)) +
                      " in an array of type " + std::to_string(type));
  return {};
}

Status read_array(std::span<const uint8_t> bytes, size_t& pos, size_t index, HevcNalArray& array) {
  const std::string name = "HEVCDecoderConfigurationRecord array #" + std::to_string(index);
  if (bytes.size() - pos < 3) return make_error(name + " is cut off in its 3-byte header");
  array.complete = (bytes[pos] & 0x80) != 0;
  array.nal_type = bytes[pos] & 0x3F;
  const size_t count = bits::load_be16(&bytes[pos + 1]);
  pos += 3;
  if (count > kMaxNalUnitsPerArray)
    return make_error(name + " claims " + std::to_string(count) + " NAL units (at most " +
                      std::to_string(kMaxNalUnitsPerArray) + " accepted)");
  for (size_t i = 0; i < count; ++i) {
    if (bytes.size() - pos < 2) return make_error(where(index, i) + " is cut off in its length");
    const size_t len = bits::load_be16(&bytes[pos]);
    pos += 2;
    if (len > bytes.size() - pos)
      return make_error(where(index, i) + " claims " + std::to_string(len) + " bytes but only " +
                        std::to_string(bytes.size() - pos) + " remain");
    const auto nal = bytes.subspan(pos, len);
    if (auto s = check_nal_unit(nal, array.nal_type, index, i); !s) return s;
    array.nal_units.emplace_back(nal.begin(), nal.end());
    pos += len;
  }
  return {};
}

Status check_fields(const HevcDecoderConfig& c) {
  const auto& g = c.general;
  if (c.length_size != 1 && c.length_size != 2 && c.length_size != 4)
    return make_error("HEVC NAL length size " + std::to_string(c.length_size) + " is not 1, 2 or 4");
  if (g.profile_space > 3 || g.profile_idc > 31 || g.constraint_indicator_flags >> 48 != 0)
    return make_error("HEVC general profile_space, profile_idc or constraint flags exceed their field widths");
  if (c.min_spatial_segmentation_idc > 0xFFF || c.parallelism_type > 3 || c.chroma_format > 3 ||
      c.constant_frame_rate > 3 || c.num_temporal_layers > 7)
    return make_error("HEVCDecoderConfigurationRecord field exceeds its width");
  if (c.bit_depth_luma < 8 || c.bit_depth_luma > 15 || c.bit_depth_chroma < 8 || c.bit_depth_chroma > 15)
    return make_error("HEVCDecoderConfigurationRecord bit depths must be 8..15");
  if (c.arrays.size() > kMaxHevcNalArrays)
    return make_error("more than " + std::to_string(kMaxHevcNalArrays) + " arrays in an HEVCDecoderConfigurationRecord");
  for (size_t a = 0; a < c.arrays.size(); ++a) {
    const auto& array = c.arrays[a];
    if (array.nal_type > 63) return make_error("HEVC NAL unit type " + std::to_string(array.nal_type) + " exceeds 6 bits");
    if (array.nal_units.size() > kMaxNalUnitsPerArray)
      return make_error("more than " + std::to_string(kMaxNalUnitsPerArray) + " NAL units in array #" + std::to_string(a));
    for (size_t i = 0; i < array.nal_units.size(); ++i) {
      if (array.nal_units[i].size() > 0xFFFF)
        return make_error(where(a, i) + " of " + std::to_string(array.nal_units[i].size()) +
                          " bytes exceeds the 16-bit nalUnitLength");
      if (auto s = check_nal_unit(array.nal_units[i], array.nal_type, a, i); !s) return s;
    }
  }
  return {};
}

}  // namespace

Result<HevcDecoderConfig> parse_hevc_decoder_config(std::span<const uint8_t> bytes) {
  if (bytes.size() < kFixedPartBytes)
    return make_error("HEVCDecoderConfigurationRecord is " + std::to_string(bytes.size()) + " bytes, need at least " +
                      std::to_string(kFixedPartBytes));
  if (bytes[0] != 1)
    return make_error("HEVCDecoderConfigurationRecord configurationVersion is " + std::to_string(bytes[0]) +
                      ", expected 1");
  HevcDecoderConfig c;
  c.general.profile_space = bytes[1] >> 6;
  c.general.tier_flag = (bytes[1] & 0x20) != 0;
  c.general.profile_idc = bytes[1] & 0x1F;
  c.general.profile_compatibility_flags = bits::load_be32(&bytes[2]);
  c.general.constraint_indicator_flags = uint64_t{bits::load_be16(&bytes[6])} << 32 | bits::load_be32(&bytes[8]);
  c.general.level_idc = bytes[12];
  // Reserved bits ('1111'b, '111111'b, '11111'b) are not checked: they are rewritten.
  c.min_spatial_segmentation_idc = bits::load_be16(&bytes[13]) & 0x0FFF;
  c.parallelism_type = bytes[15] & 0x03;
  c.chroma_format = bytes[16] & 0x03;
  c.bit_depth_luma = static_cast<uint8_t>((bytes[17] & 0x07) + 8);
  c.bit_depth_chroma = static_cast<uint8_t>((bytes[18] & 0x07) + 8);
  c.avg_frame_rate = bits::load_be16(&bytes[19]);
  c.constant_frame_rate = bytes[21] >> 6;
  c.num_temporal_layers = (bytes[21] >> 3) & 0x07;
  c.temporal_id_nested = (bytes[21] & 0x04) != 0;
  c.length_size = (bytes[21] & 0x03) + 1;
  if (c.length_size == 3)
    return make_error("HEVCDecoderConfigurationRecord lengthSizeMinusOne is 2; only 1, 2 or 4 byte lengths exist");
  const size_t num_arrays = bytes[22];
  if (num_arrays > kMaxHevcNalArrays)
    return make_error("HEVCDecoderConfigurationRecord claims " + std::to_string(num_arrays) + " arrays (at most " +
                      std::to_string(kMaxHevcNalArrays) + " accepted)");
  size_t pos = kFixedPartBytes;
  c.arrays.resize(num_arrays);
  for (size_t a = 0; a < num_arrays; ++a)
    if (auto s = read_array(bytes, pos, a, c.arrays[a]); !s) return s.error();
  return c;
}

Result<std::vector<uint8_t>> serialize_hevc_decoder_config(const HevcDecoderConfig& c) {
  if (auto s = check_fields(c); !s) return s.error();
  const auto& g = c.general;
  std::vector<uint8_t> out;
  out.push_back(1);  // configurationVersion
  out.push_back(static_cast<uint8_t>(g.profile_space << 6 | (g.tier_flag ? 0x20 : 0) | g.profile_idc));
  bits::append_be32(out, g.profile_compatibility_flags);
  bits::append_be16(out, static_cast<uint16_t>(g.constraint_indicator_flags >> 32));
  bits::append_be32(out, static_cast<uint32_t>(g.constraint_indicator_flags));
  out.push_back(g.level_idc);
  bits::append_be16(out, static_cast<uint16_t>(0xF000 | c.min_spatial_segmentation_idc));
  out.push_back(static_cast<uint8_t>(0xFC | c.parallelism_type));
  out.push_back(static_cast<uint8_t>(0xFC | c.chroma_format));
  out.push_back(static_cast<uint8_t>(0xF8 | (c.bit_depth_luma - 8)));
  out.push_back(static_cast<uint8_t>(0xF8 | (c.bit_depth_chroma - 8)));
  bits::append_be16(out, c.avg_frame_rate);
  out.push_back(static_cast<uint8_t>(c.constant_frame_rate << 6 | c.num_temporal_layers << 3 |
                                     (c.temporal_id_nested ? 0x04 : 0) | (c.length_size - 1)));
  out.push_back(static_cast<uint8_t>(c.arrays.size()));
  for (const auto& array : c.arrays) {
    out.push_back(static_cast<uint8_t>((array.complete ? 0x80 : 0) | array.nal_type));  // reserved bit 0
    bits::append_be16(out, static_cast<uint16_t>(array.nal_units.size()));
    for (const auto& nal : array.nal_units) {
      bits::append_be16(out, static_cast<uint16_t>(nal.size()));
      out.insert(out.end(), nal.begin(), nal.end());
    }
  }
  return out;
}

Result<std::vector<uint8_t>> build_hevc_decoder_config(std::span<const uint8_t> vps,
                                                       std::span<const uint8_t> sps,
                                                       std::span<const uint8_t> pps) {
  auto parsed = parse_sps(sps);
  if (!parsed) return parsed.error();
  auto vps_header = parse_nal_header(vps);
  if (!vps_header || vps_header->type != NalType::vps) return make_error("VPS is malformed or not a VPS NAL unit (32)");
  auto pps_header = parse_nal_header(pps);
  if (!pps_header || pps_header->type != NalType::pps) return make_error("PPS is malformed or not a PPS NAL unit (34)");
  if (parsed->bit_depth_luma > 15 || parsed->bit_depth_chroma > 15)
    return make_error("HEVC SPS bit depth " + std::to_string(parsed->bit_depth_luma) +
                      " does not fit an HEVCDecoderConfigurationRecord (max 15)");
  HevcDecoderConfig c;
  c.general = parsed->profile_tier_level;
  c.chroma_format = static_cast<uint8_t>(parsed->chroma_format_idc);
  c.bit_depth_luma = static_cast<uint8_t>(parsed->bit_depth_luma);
  c.bit_depth_chroma = static_cast<uint8_t>(parsed->bit_depth_chroma);
  // min_spatial_segmentation_idc (VUI) and parallelismType (PPS) stay 0, "unknown",
  // which §8.3.3.1.3 allows; so do avgFrameRate and constantFrameRate.
  c.num_temporal_layers = static_cast<uint8_t>(parsed->max_sub_layers_minus1 + 1);
  c.temporal_id_nested = parsed->temporal_id_nesting;
  c.length_size = 4;
  // Not complete (§8.3.3.1.3): a TS publisher repeats its parameter sets in band, so
  // the stream holds more than the record. FFmpeg writes the same for FLV and `hev1`.
  for (auto [type, nal] : {std::pair{NalType::vps, vps}, std::pair{NalType::sps, sps}, std::pair{NalType::pps, pps}})
    c.arrays.push_back({.complete = false,
                        .nal_type = static_cast<uint8_t>(type),
                        .nal_units = {std::vector<uint8_t>(nal.begin(), nal.end())}});
  return serialize_hevc_decoder_config(c);
}

}  // namespace anchorcast::hevc
