// HEVC profile_tier_level() (ITU-T H.265 §7.3.3): the general profile, tier and level a
// VPS and an SPS carry, and that the HEVCDecoderConfigurationRecord copies verbatim.
#pragma once

#include <cstdint>

#include "relay/protocol/bits/bit_reader.hpp"

namespace anchorcast::hevc {

// The general_* fields: the first 12 bytes of profile_tier_level(), bit for bit the
// bytes 1..12 of an hvcC record.
struct ProfileTierLevel {
  uint8_t profile_space = 0;                // general_profile_space, 2 bits
  bool tier_flag = false;                   // general_tier_flag: false Main, true High
  uint8_t profile_idc = 0;                  // general_profile_idc, 5 bits: 1 Main, 2 Main 10
  uint32_t profile_compatibility_flags = 0;  // general_profile_compatibility_flag[0..31], [0] the MSB
  // From general_progressive_source_flag to general_inbld_flag/reserved: 48 bits, the
  // first in bit 47.
  uint64_t constraint_indicator_flags = 0;
  uint8_t level_idc = 0;                    // general_level_idc: 30 x the level number

  bool operator==(const ProfileTierLevel&) const = default;
};

// Reads profile_tier_level(1, max_sub_layers_minus1): the general part, then walks over
// the sub-layer part (§7.3.3 sub_layer_* flags and fields). The caller checks
// br.failed(); max_sub_layers_minus1 must be 0..6 (§7.4.3.2.1).
ProfileTierLevel read_profile_tier_level(bits::BitReader& br, int max_sub_layers_minus1);

}  // namespace anchorcast::hevc
