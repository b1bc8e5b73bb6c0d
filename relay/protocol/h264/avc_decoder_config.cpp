#include "relay/protocol/h264/avc_decoder_config.hpp"

#include <string>

#include "relay/protocol/h264/nal_unit.hpp"
#include "relay/protocol/h264/sps.hpp"

namespace anchorcast::h264 {
namespace {

bool needs_high_profile_fields(uint8_t profile_idc) {
  // §5.2.4.1.1: "if (AVCProfileIndication == 100 || 110 || 122 || 144)".
  return profile_idc == 100 || profile_idc == 110 || profile_idc == 122 || profile_idc == 144;
}

// Reads `count` NAL units each behind a 16-bit length; advances pos.
Status read_nal_list(std::span<const uint8_t> bytes, size_t& pos, size_t count, const char* what,
                     std::vector<std::vector<uint8_t>>& out) {
  for (size_t i = 0; i < count; ++i) {
    if (bytes.size() - pos < 2)
      return make_error(std::string("AVCDecoderConfigurationRecord ends inside the length of ") + what +
                        " #" + std::to_string(i));
    size_t len = (size_t{bytes[pos]} << 8) | bytes[pos + 1];
    pos += 2;
    if (len > bytes.size() - pos)
      return make_error(std::string("AVCDecoderConfigurationRecord ") + what + " #" + std::to_string(i) +
                        " claims " + std::to_string(len) + " bytes but only " +
                        std::to_string(bytes.size() - pos) + " remain");
    if (len == 0)
      return make_error(std::string("AVCDecoderConfigurationRecord ") + what + " #" + std::to_string(i) +
                        " is empty");
    out.emplace_back(bytes.begin() + static_cast<std::ptrdiff_t>(pos),
                     bytes.begin() + static_cast<std::ptrdiff_t>(pos + len));
    pos += len;
  }
  return {};
}

Status write_nal_list(const std::vector<std::vector<uint8_t>>& list, const char* what,
                      std::vector<uint8_t>& out) {
  for (const auto& nal : list) {
    if (nal.empty() || nal.size() > 0xFFFF)
      return make_error(std::string(what) + " of " + std::to_string(nal.size()) +
                        " bytes does not fit an AVCDecoderConfigurationRecord (1..65535)");
    out.push_back(static_cast<uint8_t>(nal.size() >> 8));
    out.push_back(static_cast<uint8_t>(nal.size()));
    out.insert(out.end(), nal.begin(), nal.end());
  }
  return {};
}

}  // namespace

Result<AvcDecoderConfig> parse_avc_decoder_config(std::span<const uint8_t> bytes) {
  if (bytes.size() < 7)
    return make_error("AVCDecoderConfigurationRecord is " + std::to_string(bytes.size()) +
                      " bytes, need at least 7");
  if (bytes[0] != 1)
    return make_error("AVCDecoderConfigurationRecord configurationVersion is " + std::to_string(bytes[0]) +
                      ", expected 1");
  AvcDecoderConfig config;
  config.profile_idc = bytes[1];
  config.profile_compatibility = bytes[2];
  config.level_idc = bytes[3];
  config.length_size = (bytes[4] & 0x03) + 1;
  if (config.length_size == 3)
    return make_error("AVCDecoderConfigurationRecord lengthSizeMinusOne is 2; only 1, 2 or 4 byte lengths exist");
  size_t pos = 5;
  const size_t num_sps = bytes[pos++] & 0x1F;
  if (auto s = read_nal_list(bytes, pos, num_sps, "SPS", config.sps); !s) return s.error();
  if (pos >= bytes.size())
    return make_error("AVCDecoderConfigurationRecord ends before numOfPictureParameterSets");
  const size_t num_pps = bytes[pos++];
  if (auto s = read_nal_list(bytes, pos, num_pps, "PPS", config.pps); !s) return s.error();
  for (const auto& sps : config.sps)
    if (nal_type(sps[0]) != NalType::sps)
      return make_error("AVCDecoderConfigurationRecord lists a NAL unit of type " +
                        std::to_string(sps[0] & 0x1F) + " as SPS");
  for (const auto& pps : config.pps)
    if (nal_type(pps[0]) != NalType::pps)
      return make_error("AVCDecoderConfigurationRecord lists a NAL unit of type " +
                        std::to_string(pps[0] & 0x1F) + " as PPS");

  // High-profile fields: optional in practice (see header), so parse only when all 4
  // bytes are there.
  if (needs_high_profile_fields(config.profile_idc) && bytes.size() - pos >= 4) {
    config.has_high_profile_fields = true;
    config.chroma_format = bytes[pos] & 0x03;
    config.bit_depth_luma = static_cast<uint8_t>((bytes[pos + 1] & 0x07) + 8);
    config.bit_depth_chroma = static_cast<uint8_t>((bytes[pos + 2] & 0x07) + 8);
    const size_t num_ext = bytes[pos + 3];
    pos += 4;
    if (auto s = read_nal_list(bytes, pos, num_ext, "SPS extension", config.sps_ext); !s) return s.error();
  }
  return config;
}

Result<std::vector<uint8_t>> serialize_avc_decoder_config(const AvcDecoderConfig& config) {
  if (config.length_size != 1 && config.length_size != 2 && config.length_size != 4)
    return make_error("NAL length size " + std::to_string(config.length_size) + " is not 1, 2 or 4");
  if (config.sps.size() > 31) return make_error("more than 31 SPS do not fit an AVCDecoderConfigurationRecord");
  if (config.pps.size() > 255) return make_error("more than 255 PPS do not fit an AVCDecoderConfigurationRecord");
  if (config.sps_ext.size() > 255)
    return make_error("more than 255 SPS extensions do not fit an AVCDecoderConfigurationRecord");
  std::vector<uint8_t> out;
  out.push_back(1);  // configurationVersion
  out.push_back(config.profile_idc);
  out.push_back(config.profile_compatibility);
  out.push_back(config.level_idc);
  out.push_back(static_cast<uint8_t>(0xFC | (config.length_size - 1)));  // reserved '111111'b
  out.push_back(static_cast<uint8_t>(0xE0 | config.sps.size()));         // reserved '111'b
  if (auto s = write_nal_list(config.sps, "SPS", out); !s) return s.error();
  out.push_back(static_cast<uint8_t>(config.pps.size()));
  if (auto s = write_nal_list(config.pps, "PPS", out); !s) return s.error();
  if (config.has_high_profile_fields) {
    out.push_back(static_cast<uint8_t>(0xFC | (config.chroma_format & 0x03)));
    out.push_back(static_cast<uint8_t>(0xF8 | ((config.bit_depth_luma - 8) & 0x07)));
    out.push_back(static_cast<uint8_t>(0xF8 | ((config.bit_depth_chroma - 8) & 0x07)));
    out.push_back(static_cast<uint8_t>(config.sps_ext.size()));
    if (auto s = write_nal_list(config.sps_ext, "SPS extension", out); !s) return s.error();
  }
  return out;
}

Result<std::vector<uint8_t>> build_avc_decoder_config(std::span<const uint8_t> sps,
                                                      std::span<const uint8_t> pps) {
  auto parsed = parse_sps(sps);
  if (!parsed) return parsed.error();
  if (pps.empty() || nal_type(pps[0]) != NalType::pps)
    return make_error("PPS is empty or not a PPS NAL unit");
  AvcDecoderConfig config;
  config.profile_idc = parsed->profile_idc;
  config.profile_compatibility = parsed->constraint_flags;
  config.level_idc = parsed->level_idc;
  config.length_size = 4;
  config.sps.emplace_back(sps.begin(), sps.end());
  config.pps.emplace_back(pps.begin(), pps.end());
  if (needs_high_profile_fields(parsed->profile_idc)) {
    config.has_high_profile_fields = true;
    config.chroma_format = static_cast<uint8_t>(parsed->chroma_format_idc);
    config.bit_depth_luma = static_cast<uint8_t>(parsed->bit_depth_luma);
    config.bit_depth_chroma = static_cast<uint8_t>(parsed->bit_depth_chroma);
  }
  return serialize_avc_decoder_config(config);
}

}  // namespace anchorcast::h264
