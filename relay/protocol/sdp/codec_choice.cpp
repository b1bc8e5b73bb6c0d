#include "relay/protocol/sdp/codec_choice.hpp"

#include <charconv>
#include <strings.h>

namespace anchorcast::sdp {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

bool is_h264_mode1(const Codec& c) {
  return iequals(c.encoding, "H264") && c.clock_rate == 90000 &&
         fmtp_parameter(c.fmtp, "packetization-mode") == std::optional<std::string_view>("1");
}

}  // namespace

std::optional<H264Profile> h264_profile(std::string_view plid) {
  if (plid.size() != 6) return std::nullopt;
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(plid.data(), plid.data() + 6, value, 16);
  if (ec != std::errc{} || ptr != plid.data() + 6) return std::nullopt;
  const unsigned profile_idc = value >> 16;
  const unsigned constraints = (value >> 8) & 0xFF;
  const bool set0 = constraints & 0x80, set1 = constraints & 0x40;
  const bool set4 = constraints & 0x08, set5 = constraints & 0x04;
  switch (profile_idc) {
    case 0x42: return set1 ? H264Profile::constrained_baseline : H264Profile::baseline;
    case 0x4D: return set1 ? H264Profile::constrained_baseline : H264Profile::main;
    case 0x58: return set0 && set1 ? H264Profile::constrained_baseline : H264Profile::extended;
    case 0x64: return set4 && set5 ? H264Profile::constrained_high : H264Profile::high;
    default: return H264Profile::other;
  }
}

std::optional<H264Choice> choose_h264(const MediaSection& m, std::string_view source_profile_level_id,
                                      uint8_t preferred_pt) {
  const auto source = h264_profile(source_profile_level_id);
  std::optional<H264Choice> best;
  int best_score = -1;
  for (const auto& c : m.codecs) {
    if (!is_h264_mode1(c)) continue;
    H264Choice choice;
    choice.payload_type = c.payload_type;
    choice.offered_profile_level_id = std::string(fmtp_parameter(c.fmtp, "profile-level-id").value_or(""));
    const auto offered = h264_profile(choice.offered_profile_level_id.empty() ? "420010" : choice.offered_profile_level_id);
    choice.same_profile = source && offered == source;
    const int score = (choice.same_profile ? 4 : 0) + (c.payload_type == preferred_pt ? 2 : 0) +
                      (offered == H264Profile::constrained_baseline ? 1 : 0);
    if (score > best_score) {
      best_score = score;
      best = std::move(choice);
    }
  }
  return best;
}

std::optional<uint8_t> choose_opus(const MediaSection& m, uint8_t preferred_pt) {
  std::optional<uint8_t> found;
  for (const auto& c : m.codecs) {
    if (!iequals(c.encoding, "opus") || c.clock_rate != 48000 || c.channels != 2) continue;
    if (c.payload_type == preferred_pt) return preferred_pt;
    if (!found) found = c.payload_type;
  }
  return found;
}

}  // namespace anchorcast::sdp
