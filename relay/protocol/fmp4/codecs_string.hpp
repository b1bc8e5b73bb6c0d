// The codec strings of an HLS CODECS attribute (RFC 8216bis §4.4.6.2, RFC 6381 §3.3) for
// what an fMP4 track carries: `hvc1.*` (ISO/IEC 14496-15 Annex E.3), `avc1.PPCCLL`
// (RFC 6381 §3.3) and `mp4a.40.N` (RFC 6381 §3.3, ISO/IEC 14496-3 object types).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "relay/protocol/aac/audio_specific_config.hpp"
#include "relay/protocol/hevc/profile_tier_level.hpp"

namespace anchorcast::fmp4 {

// `<entry>.<space><profile>.<compat>.<tier><level>[.<constraint byte>]*`: the profile
// space as "", "A", "B" or "C" before general_profile_idc in decimal; the 32
// compatibility flags in reverse bit order, in hex without leading zeros; "L" (Main
// tier) or "H" (High) and general_level_idc in decimal; then each of the six constraint
// bytes in hex, trailing zero bytes left out. Main, level 3.1, progressive frames:
// "hvc1.1.6.L93.B0".
std::string hevc_codecs_string(const hevc::ProfileTierLevel& general, std::string_view sample_entry = "hvc1");

// `avc1.` and the SPS's profile_idc, constraint flags byte and level_idc as six hex digits.
std::string avc_codecs_string(uint8_t profile_idc, uint8_t constraint_flags, uint8_t level_idc,
                              std::string_view sample_entry = "avc1");

// `mp4a.40.` and the audio object type a player must support: 29 for HE-AAC v2 (PS), 5 for
// HE-AAC (SBR), else the core type (2 for AAC LC).
std::string aac_codecs_string(const aac::AudioSpecificConfig& asc);

}  // namespace anchorcast::fmp4
