#include "relay/protocol/fmp4/codecs_string.hpp"

#include <cstdio>

namespace anchorcast::fmp4 {

std::string hevc_codecs_string(const hevc::ProfileTierLevel& general, std::string_view sample_entry) {
  std::string out(sample_entry);
  out += '.';
  if (general.profile_space > 0) out += static_cast<char>('A' + general.profile_space - 1);
  out += std::to_string(general.profile_idc);
  // Annex E.3: general_profile_compatibility_flag[j] becomes bit j, so Main (flags 1 and
  // 2, the record's 0x60000000) reads "6".
  uint32_t reversed = 0;
  for (int j = 0; j < 32; ++j)
    if (general.profile_compatibility_flags & (uint32_t{1} << (31 - j))) reversed |= uint32_t{1} << j;
  char hex[16];
  std::snprintf(hex, sizeof hex, ".%X.", reversed);
  out += hex;
  out += general.tier_flag ? 'H' : 'L';
  out += std::to_string(general.level_idc);
  uint8_t bytes[6];
  int last_nonzero = -1;
  for (int i = 0; i < 6; ++i) {
    bytes[i] = static_cast<uint8_t>(general.constraint_indicator_flags >> (40 - 8 * i));
    if (bytes[i] != 0) last_nonzero = i;
  }
  for (int i = 0; i <= last_nonzero; ++i) {
    std::snprintf(hex, sizeof hex, ".%X", bytes[i]);
    out += hex;
  }
  return out;
}

std::string avc_codecs_string(uint8_t profile_idc, uint8_t constraint_flags, uint8_t level_idc,
                              std::string_view sample_entry) {
  char hex[8];
  std::snprintf(hex, sizeof hex, "%02x%02x%02x", profile_idc, constraint_flags, level_idc);
  return std::string(sample_entry) + "." + hex;
}

std::string aac_codecs_string(const aac::AudioSpecificConfig& asc) {
  const int object_type = asc.ps ? aac::kPs : asc.sbr ? aac::kSbr : asc.object_type;
  return "mp4a.40." + std::to_string(object_type);
}

}  // namespace anchorcast::fmp4
