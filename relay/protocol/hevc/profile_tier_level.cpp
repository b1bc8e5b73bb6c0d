#include "relay/protocol/hevc/profile_tier_level.hpp"

#include <stdexcept>

namespace anchorcast::hevc {

ProfileTierLevel read_profile_tier_level(bits::BitReader& br, int max_sub_layers_minus1) {
  if (max_sub_layers_minus1 < 0 || max_sub_layers_minus1 > 6)
    throw std::invalid_argument("read_profile_tier_level: max_sub_layers_minus1 must be 0..6");
  ProfileTierLevel ptl;
  ptl.profile_space = static_cast<uint8_t>(br.read_bits(2));
  ptl.tier_flag = br.read_flag();
  ptl.profile_idc = static_cast<uint8_t>(br.read_bits(5));
  ptl.profile_compatibility_flags = br.read_bits(32);
  ptl.constraint_indicator_flags = uint64_t{br.read_bits(16)} << 32 | br.read_bits(32);
  ptl.level_idc = static_cast<uint8_t>(br.read_bits(8));

  // §7.3.3: two presence flags per sub-layer, padded to eight sub-layers with
  // reserved_zero_2bits whenever there is any sub-layer at all.
  bool profile_present[8] = {};
  bool level_present[8] = {};
  for (int i = 0; i < max_sub_layers_minus1; ++i) {
    profile_present[i] = br.read_flag();
    level_present[i] = br.read_flag();
  }
  if (max_sub_layers_minus1 > 0)
    for (int i = max_sub_layers_minus1; i < 8; ++i) br.skip_bits(2);
  for (int i = 0; i < max_sub_layers_minus1; ++i) {
    // sub_layer_profile_space .. sub_layer_inbld_flag: 2 + 1 + 5 + 32 + 48 bits.
    if (profile_present[i]) br.skip_bits(88);
    if (level_present[i]) br.skip_bits(8);  // sub_layer_level_idc
  }
  return ptl;
}

}  // namespace anchorcast::hevc
