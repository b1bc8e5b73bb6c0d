#include "relay/egress/hls/media_playlist.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>

#include "relay/egress/hls/iso8601.hpp"

namespace anchorcast {
namespace {

int ceil_seconds(int64_t us) { return static_cast<int>((us + 999999) / 1000000); }

}  // namespace

std::string hls_segment_name(uint64_t sequence, bool fmp4) {
  return "seg-" + std::to_string(sequence) + (fmp4 ? ".m4s" : ".ts");
}

std::string hls_init_name(uint64_t id) { return "init-" + std::to_string(id) + ".mp4"; }

std::optional<HlsFileName> parse_hls_file_name(std::string_view name) {
  struct Form {
    std::string_view prefix, suffix;
    HlsFileName::Kind kind;
  };
  constexpr Form forms[] = {{"seg-", ".ts", HlsFileName::Kind::ts_segment},
                            {"seg-", ".m4s", HlsFileName::Kind::fmp4_segment},
                            {"init-", ".mp4", HlsFileName::Kind::init_section}};
  for (const auto& f : forms) {
    if (name.size() <= f.prefix.size() + f.suffix.size() || !name.starts_with(f.prefix) || !name.ends_with(f.suffix))
      continue;
    const auto digits = name.substr(f.prefix.size(), name.size() - f.prefix.size() - f.suffix.size());
    if (digits.size() > 19) return std::nullopt;  // fits uint64_t
    uint64_t value = 0;
    for (char c : digits) {
      if (c < '0' || c > '9') return std::nullopt;
      value = value * 10 + static_cast<uint64_t>(c - '0');
    }
    return HlsFileName{f.kind, value};
  }
  return std::nullopt;
}

MediaPlaylist::MediaPlaylist(int window_segments, int min_target_duration_s)
    : window_(static_cast<size_t>(std::max(1, window_segments))),
      target_duration_s_(std::max(1, min_target_duration_s)) {}

int64_t MediaPlaylist::total_duration_us() const {
  int64_t total = 0;
  for (const auto& s : segments_) total += s.duration_us;
  return total;
}

void MediaPlaylist::add(HlsSegment segment) {
  segment.sequence = next_sequence_++;
  // §4.3.3.1: every EXTINF, rounded to the nearest integer, must be <= the target
  // duration; §6.2.1 forbids changing it, so it is the largest seen, never lowered.
  target_duration_s_ = std::max(target_duration_s_, ceil_seconds(segment.duration_us));
  segments_.push_back(std::move(segment));
  // §6.2.2: keep at least three target durations listed, whatever the window says.
  const int64_t min_listed_us = int64_t{3} * target_duration_s_ * 1000000;
  while (segments_.size() > window_ && total_duration_us() - segments_.front().duration_us >= min_listed_us) {
    // §6.2.2: removing a segment that carries EXT-X-DISCONTINUITY increments
    // EXT-X-DISCONTINUITY-SEQUENCE.
    if (segments_.front().discontinuity) ++discontinuity_sequence_;
    retired_.push_back(std::move(segments_.front()));
    segments_.pop_front();
  }
  // §6.2.2: a removed segment stays available for at least the playlist's duration;
  // keeping as many as are listed covers it.
  while (retired_.size() > std::max(window_, segments_.size())) retired_.pop_front();
}

std::optional<std::chrono::system_clock::time_point> MediaPlaylist::window_start() const {
  if (segments_.empty()) return std::nullopt;
  return segments_.front().program_date_time;
}

std::string MediaPlaylist::render(std::string_view date_range_tags) const {
  std::string out;
  out.reserve(128 + segments_.size() * 96 + date_range_tags.size());
  // RFC 8216 §7: EXT-X-MAP in a playlist that is not I-frames only needs version 6 or
  // later; 7 is what Apple's tools write for fMP4.
  const bool any_fmp4 = std::any_of(segments_.begin(), segments_.end(), [](const auto& s) { return s.init; });
  out += any_fmp4 ? "#EXTM3U\n#EXT-X-VERSION:7" : "#EXTM3U\n#EXT-X-VERSION:3";
  out += "\n#EXT-X-TARGETDURATION:";
  out += std::to_string(target_duration_s_);
  out += "\n#EXT-X-MEDIA-SEQUENCE:";
  out += std::to_string(segments_.empty() ? next_sequence_ : segments_.front().sequence);
  out += "\n#EXT-X-DISCONTINUITY-SEQUENCE:";
  out += std::to_string(discontinuity_sequence_);
  out += '\n';
  char extinf[48];
  bool first = true;
  const HlsInitSection* mapped = nullptr;
  for (const auto& s : segments_) {
    if (s.discontinuity) out += "#EXT-X-DISCONTINUITY\n";
    // §4.3.2.5: a map applies to every segment after it until the next one, so it is
    // written where the init changes (a new session or new parameters, after the
    // discontinuity) and for the first listed segment.
    if (s.init && s.init.get() != mapped) {
      out += "#EXT-X-MAP:URI=\"";
      out += hls_init_name(s.init->id);
      out += "\"\n";
      mapped = s.init.get();
    }
    out += "#EXT-X-PROGRAM-DATE-TIME:";
    out += format_iso8601_ms(s.program_date_time);
    if (first && !date_range_tags.empty()) {
      out += '\n';
      out += date_range_tags;
      out.pop_back();  // the EXTINF line below starts with its own newline
    }
    first = false;
    // §4.3.2.1: decimal-floating-point seconds (version 3); 3 decimals = ms accuracy.
    std::snprintf(extinf, sizeof extinf, "\n#EXTINF:%.3f,\n", static_cast<double>(s.duration_us) / 1e6);
    out += extinf;
    out += hls_segment_name(s.sequence, s.init != nullptr);
    out += '\n';
  }
  if (ended_) out += "#EXT-X-ENDLIST\n";
  return out;
}

std::shared_ptr<const std::string> MediaPlaylist::find(uint64_t sequence, bool fmp4) const {
  for (const auto* list : {&segments_, &retired_})
    for (const auto& s : *list)
      if (s.sequence == sequence) return (s.init != nullptr) == fmp4 ? s.data : nullptr;
  return nullptr;
}

std::shared_ptr<const std::string> MediaPlaylist::find_init(uint64_t id) const {
  for (const auto* list : {&segments_, &retired_})
    for (const auto& s : *list)
      if (s.init && s.init->id == id) return s.init->data;
  return nullptr;
}

}  // namespace anchorcast
