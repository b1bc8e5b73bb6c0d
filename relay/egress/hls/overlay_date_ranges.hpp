// The overlays of a stream as HLS date ranges (RFC 8216 §4.3.2.7, EXT-X-DATERANGE): one
// range per overlay per stretch during which it is visible with the same content. Fed
// with every cue (the whole overlay state at a wall-clock date); renders the ranges a
// playlist window must list: every range still open, however old, so a late joiner
// sees the current state, and every closed range that ended within the window. Not
// thread-safe: HlsPackager guards it.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>

#include "anchorcast/core/result.hpp"

namespace anchorcast {

inline constexpr std::string_view kOverlayDateRangeClass = "com.anchorcast.overlay";

class OverlayDateRanges {
 public:
  using TimePoint = std::chrono::system_clock::time_point;

  // Applies a cue: `cue_json` is {"version":V,"overlays":[{"id":...},...]}. An overlay
  // that is new, or whose object changed, opens a range "<id>-v<version>" at `at`
  // (§4.3.2.7.1: two tags with one ID must not differ in any attribute, so changed
  // content is a new range); one that is gone or changed closes at `at`. Fails, changing
  // nothing, on JSON that is not such an object.
  Status apply_cue(std::string_view cue_json, uint64_t version, TimePoint at);
  // Forgets closed ranges that ended before `window_start`.
  void trim(TimePoint window_start);
  // EXT-X-DATERANGE lines, each ending in '\n'; open ranges have no END-DATE yet.
  std::string render() const;

  size_t size() const { return ranges_.size(); }

 private:
  struct Range {
    std::string id;             // the overlay id
    std::string range_id;       // "<id>-v<version>"
    uint64_t version = 0;       // the cue that opened it
    std::string object_json;    // as the cue had it: the content the range stands for
    std::string payload_base64; // the object as X-PAYLOAD carries it
    TimePoint start;
    TimePoint end;
    bool open = true;
  };
  std::deque<Range> ranges_;  // in order of opening
};

// The cue JSON without what a playlist or a TS metadata frame should not repeat: an
// overlay's `image` when it is an inline data: URI over `max_inline_image` bytes
// (players fetch images by URL; a megabyte of base64 in every playlist refresh is not
// an option). Anything that is not a cue object comes back unchanged.
std::string compact_cue_json(std::string_view cue_json, size_t max_inline_image = 2048);

}  // namespace anchorcast
