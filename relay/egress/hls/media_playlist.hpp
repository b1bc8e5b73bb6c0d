// The segment window of a live HLS media playlist and its text (RFC 8216 §4.3). Not
// thread-safe: HlsPackager guards it.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace anchorcast {

// An fMP4 initialization section (RFC 8216 §4.3.2.5 EXT-X-MAP). Each one gets a new
// id, hence a new URI ("init-<id>.mp4"): players and caches that keep an init by its URI
// never decode new parameters with an old one.
struct HlsInitSection {
  uint64_t id = 0;
  std::shared_ptr<const std::string> data;
};

struct HlsSegment {
  uint64_t sequence = 0;
  int64_t duration_us = 0;
  bool discontinuity = false;  // first segment after a new session or codec change
  std::chrono::system_clock::time_point program_date_time;
  std::shared_ptr<const std::string> data;
  std::shared_ptr<const HlsInitSection> init;  // an fMP4 segment's; nullptr for MPEG-TS
};

class MediaPlaylist {
 public:
  // `min_target_duration_s`: the configured target, rounded up; the advertised target
  // duration starts there and only grows.
  MediaPlaylist(int window_segments, int min_target_duration_s);

  // Appends a complete segment and slides the window.
  void add(HlsSegment segment);
  // Adds #EXT-X-ENDLIST: the stream is over.
  void end() { ended_ = true; }

  bool empty() const { return segments_.empty(); }
  uint64_t next_sequence() const { return next_sequence_; }
  int target_duration_s() const { return target_duration_s_; }
  // The playlist text (version 7 with EXT-X-MAP while an fMP4 segment is listed, else
  // 3); `date_range_tags` (whole EXT-X-DATERANGE lines) go right after
  // the first segment's EXT-X-PROGRAM-DATE-TIME, which RFC 8216 §4.3.2.7 requires a
  // playlist with date ranges to have, and which hls.js anchors them to.
  std::string render(std::string_view date_range_tags = {}) const;
  // The EXT-X-PROGRAM-DATE-TIME of the first listed segment: date ranges that ended
  // before it are no longer listed.
  std::optional<std::chrono::system_clock::time_point> window_start() const;
  // A listed or recently removed segment, when it is fMP4 (`fmp4`) or TS (not).
  std::shared_ptr<const std::string> find(uint64_t sequence, bool fmp4 = false) const;
  // The init section of a listed or recently removed fMP4 segment.
  std::shared_ptr<const std::string> find_init(uint64_t id) const;

 private:
  int64_t total_duration_us() const;

  size_t window_;
  int target_duration_s_;
  std::deque<HlsSegment> segments_;  // listed
  std::deque<HlsSegment> retired_;   // slid out, still fetchable
  uint64_t next_sequence_ = 0;
  uint64_t discontinuity_sequence_ = 0;
  bool ended_ = false;
};

// "seg-<sequence>.ts", or "seg-<sequence>.m4s" for an fMP4 segment.
std::string hls_segment_name(uint64_t sequence, bool fmp4 = false);
// "init-<id>.mp4"
std::string hls_init_name(uint64_t id);

struct HlsFileName {
  enum class Kind { ts_segment, fmp4_segment, init_section };
  Kind kind = Kind::ts_segment;
  uint64_t number = 0;  // the segment's sequence, the init's id
};
// What a file name of ours names; nullopt when it is none of them.
std::optional<HlsFileName> parse_hls_file_name(std::string_view name);

}  // namespace anchorcast
