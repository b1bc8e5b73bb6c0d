// The fMP4 tests' way of cutting the HEVC fixture: one fragment per GOP, video ending
// where the next GOP starts, audio's last frame lasting as long as the one before it.
#pragma once

#include <optional>
#include <vector>

#include "hevc_fixture.hpp"
#include "relay/protocol/fmp4/media_segment.hpp"
#include "relay/protocol/fmp4/track_config.hpp"

namespace anchorcast::fmp4 {

struct GopFragment {
  std::vector<PacketPtr> video;
  std::vector<PacketPtr> audio;
  std::optional<int64_t> video_end_us;
};

inline std::vector<GopFragment> gop_fragments(const fixtures::HevcFixture& fixture) {
  // The demuxer hands audio out later than the video around it (the TS interleaves it
  // late), so a sample goes to the GOP its decode time falls in, not the one open when it
  // arrived.
  std::vector<int64_t> starts_us;
  for (const auto& p : fixture.packets)
    if (p->kind == MediaKind::video && p->keyframe) starts_us.push_back(p->dts_in(kMicros));
  std::vector<GopFragment> out(starts_us.size());
  for (size_t i = 0; i + 1 < out.size(); ++i) out[i].video_end_us = starts_us[i + 1];
  for (const auto& p : fixture.packets) {
    const int64_t t = p->dts_in(kMicros);
    size_t gop = 0;
    while (gop + 1 < starts_us.size() && starts_us[gop + 1] <= t) ++gop;
    if (p->kind == MediaKind::video && !starts_us.empty() && t < starts_us[0]) continue;  // before the first keyframe
    (p->kind == MediaKind::video ? out[gop].video : out[gop].audio).push_back(p);
  }
  return out;
}

struct FixtureTracks {
  TrackConfig video;
  TrackConfig audio;
};

inline std::vector<uint8_t> write_fragment(const FixtureTracks& tracks, const GopFragment& gop, uint32_t sequence,
                                           std::span<const EventMessage> events = {}) {
  const TrackFragment fragments[] = {{&tracks.video, gop.video, gop.video_end_us}, {&tracks.audio, gop.audio, {}}};
  std::vector<uint8_t> out;
  auto written = write_media_segment(sequence, fragments, events, out);
  EXPECT_TRUE(written.ok()) << written.error().message;
  return out;
}

}  // namespace anchorcast::fmp4
