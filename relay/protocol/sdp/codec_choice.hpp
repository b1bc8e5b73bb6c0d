// Which of an offer's payload types we send on: H.264 packetization-mode 1 (RFC 6184
// §8.1) with a compatible profile, and Opus (RFC 7587). Browsers match answer codecs to
// their offer by H.264 profile, not level (libwebrtc's H264 IsSameH264Profile), so the
// profile is what has to agree; level-asymmetry-allowed=1 covers the level.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "relay/protocol/sdp/session_description.hpp"

namespace anchorcast::sdp {

enum class H264Profile : uint8_t { constrained_baseline, baseline, main, extended, high, constrained_high, other };

// The profile a profile-level-id ("42e01f") names, as libwebrtc classifies them;
// nullopt when it is not 6 hex digits.
std::optional<H264Profile> h264_profile(std::string_view profile_level_id);

struct H264Choice {
  uint8_t payload_type = 0;
  std::string offered_profile_level_id;  // "" when the offer gave none (means 420010)
  bool same_profile = false;             // as the source's
};

// The packetization-mode=1 H.264 PT to send, preferring one whose profile is the
// source's, then `preferred_pt`, then Constrained Baseline, then the offer's order.
std::optional<H264Choice> choose_h264(const MediaSection& m, std::string_view source_profile_level_id,
                                      uint8_t preferred_pt);

// The opus/48000/2 PT, `preferred_pt` when it is one.
std::optional<uint8_t> choose_opus(const MediaSection& m, uint8_t preferred_pt);

}  // namespace anchorcast::sdp
