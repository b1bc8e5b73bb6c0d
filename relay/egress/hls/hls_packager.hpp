// Live HLS for one stream (RFC 8216): segments cut on video keyframes (by time for
// audio-only streams) and a sliding-window media playlist. H.264 streams get MPEG-TS
// segments; an HEVC stream gets fragmented MP4 (an `hvc1` init section behind
// EXT-X-MAP, `.m4s` segments), and so does everything after it on the same packager.
// Fed by one thread from a hub subscription; playlist() and segment() may be called from
// any thread.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "anchorcast/core/config.hpp"
#include "anchorcast/hub/media_event.hpp"

namespace anchorcast {

class HlsPackager {
 public:
  // The wall clock stamps EXT-X-PROGRAM-DATE-TIME; tests pass a fixed one.
  using WallClock = std::function<std::chrono::system_clock::time_point()>;

  explicit HlsPackager(HlsConfig config, WallClock wall_clock = {});
  ~HlsPackager();
  HlsPackager(const HlsPackager&) = delete;
  HlsPackager& operator=(const HlsPackager&) = delete;

  void on_event(const MediaEvent& event);

  // The media playlist (segments named "seg-<sequence>.ts", or "seg-<sequence>.m4s" and
  // "init-<id>.mp4" for fMP4, relative to it); nullopt until the first segment is complete.
  std::optional<std::string> playlist() const;
  // A segment or init section by name: those listed, and for a while those just slid out
  // (RFC 8216 §6.2.2: a client may still fetch them). nullptr when unknown or gone.
  std::shared_ptr<const std::string> segment(std::string_view name) const;
  // True once a segment exists: the playlist can be served.
  bool has_media() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace anchorcast
