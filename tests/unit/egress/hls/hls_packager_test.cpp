#include "relay/egress/hls/hls_packager.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <regex>
#include <thread>

#include "media_fixtures.hpp"
#include "ts_inspect.hpp"

namespace anchorcast {
namespace {

using namespace std::chrono_literals;

const auto kEpoch = std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000));

HlsPackager::WallClock fixed_clock() {
  return [] { return kEpoch; };
}

MediaEvent tracks_event(const TrackSet& tracks, bool new_session) {
  return MediaEvent::of_tracks(std::make_shared<const TrackSet>(tracks), new_session);
}


// Tracks whose video config is the real 180p record; packets carry tiny valid AVCC.
TrackSet synthetic_tracks() { return fixtures::load_small_flv().tracks; }

PacketPtr video(int64_t dts_ms, bool key) { return fixtures::tiny_video(dts_ms, key); }

PacketPtr audio(int64_t dts_ms) {
  Packet p;
  p.kind = MediaKind::audio;
  p.codec = Codec::aac;
  p.keyframe = true;
  p.dts = p.pts = dts_ms;
  p.payload = {0x21, 0x10, 0x04, 0x60};
  return std::make_shared<const Packet>(std::move(p));
}

// 25 fps video from `from_ms` to `to_ms` (exclusive), a keyframe every `gop_ms`.
void feed_video(HlsPackager& hls, int64_t from_ms, int64_t to_ms, int64_t gop_ms) {
  for (int64_t t = from_ms; t < to_ms; t += 40) hls.on_event(MediaEvent::of_packet(video(t, (t - from_ms) % gop_ms == 0)));
}

std::vector<std::string> extinfs(const std::string& playlist) {
  std::vector<std::string> out;
  std::regex re("#EXTINF:([0-9.]+),");
  for (auto it = std::sregex_iterator(playlist.begin(), playlist.end(), re); it != std::sregex_iterator(); ++it)
    out.push_back((*it)[1]);
  return out;
}

std::vector<std::string> segment_names(const std::string& playlist) {
  std::vector<std::string> out;
  std::regex re("\n(seg-[0-9]+\\.ts)\n");
  for (auto it = std::sregex_iterator(playlist.begin(), playlist.end(), re); it != std::sregex_iterator(); ++it)
    out.push_back((*it)[1]);
  return out;
}

std::string tag_value(const std::string& playlist, const std::string& tag) {
  const auto at = playlist.find("#" + tag + ":");
  if (at == std::string::npos) return "";
  const auto from = at + tag.size() + 2;
  return playlist.substr(from, playlist.find('\n', from) - from);
}

int count(const std::string& haystack, const std::string& needle) {
  int n = 0;
  for (auto at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1)) ++n;
  return n;
}

TEST(HlsPackager, NoPlaylistUntilTheFirstSegmentIsComplete) {
  HlsPackager hls({.target_duration_ms = 1000, .window_segments = 6}, fixed_clock());
  EXPECT_FALSE(hls.playlist());
  EXPECT_FALSE(hls.has_media());
  hls.on_event(tracks_event(synthetic_tracks(), true));
  feed_video(hls, 0, 1000, 1000);
  EXPECT_FALSE(hls.playlist());
  hls.on_event(MediaEvent::of_packet(video(1000, true)));
  auto playlist = hls.playlist();
  ASSERT_TRUE(playlist);
  EXPECT_TRUE(hls.has_media());
  EXPECT_EQ(*playlist,
            "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:0\n"
            "#EXT-X-DISCONTINUITY-SEQUENCE:0\n#EXT-X-PROGRAM-DATE-TIME:2027-01-15T08:00:00.000Z\n"
            "#EXTINF:1.000,\nseg-0.ts\n");
}

TEST(HlsPackager, CutsOnTheFirstKeyframePastTheTarget) {
  HlsPackager hls({.target_duration_ms = 1000, .window_segments = 6}, fixed_clock());
  hls.on_event(tracks_event(synthetic_tracks(), true));
  // Keyframes every 400 ms: a cut at 1200, 2400, ...
  feed_video(hls, 0, 4000, 400);
  auto playlist = hls.playlist();
  ASSERT_TRUE(playlist);
  EXPECT_EQ(extinfs(*playlist), (std::vector<std::string>{"1.200", "1.200", "1.200"}));
  EXPECT_EQ(tag_value(*playlist, "EXT-X-TARGETDURATION"), "2");  // ceil(1.2)
  // PROGRAM-DATE-TIME follows media time.
  EXPECT_NE(playlist->find("#EXT-X-PROGRAM-DATE-TIME:2027-01-15T08:00:01.200Z\n#EXTINF:1.200,\nseg-1.ts"),
            std::string::npos);
}

TEST(HlsPackager, LongGopMakesLongerSegmentsAndTargetDurationNeverShrinks) {
  HlsPackager hls({.target_duration_ms = 1000, .window_segments = 3}, fixed_clock());
  hls.on_event(tracks_event(synthetic_tracks(), true));
  feed_video(hls, 0, 3000, 3000);   // one 3 s GOP
  feed_video(hls, 3000, 20000, 1000);  // then 1 s GOPs
  auto playlist = hls.playlist();
  ASSERT_TRUE(playlist);
  const auto durations = extinfs(*playlist);
  EXPECT_EQ(durations.front(), "1.000");  // the 3 s segment has slid out ...
  EXPECT_EQ(tag_value(*playlist, "EXT-X-TARGETDURATION"), "3");  // ... the target stays
  // RFC 8216 §6.2.2: at least three target durations stay listed, more than the window.
  EXPECT_EQ(durations.size(), 9u);
  EXPECT_EQ(tag_value(*playlist, "EXT-X-MEDIA-SEQUENCE"), "8");
}

TEST(HlsPackager, WindowSlidesAndRetiredSegmentsStayFetchableForAWhile) {
  HlsPackager hls({.target_duration_ms = 1000, .window_segments = 4}, fixed_clock());
  hls.on_event(tracks_event(synthetic_tracks(), true));
  feed_video(hls, 0, 10001, 1000);  // segments 0..9 complete
  auto playlist = hls.playlist();
  ASSERT_TRUE(playlist);
  EXPECT_EQ(segment_names(*playlist), (std::vector<std::string>{"seg-6.ts", "seg-7.ts", "seg-8.ts", "seg-9.ts"}));
  EXPECT_EQ(tag_value(*playlist, "EXT-X-MEDIA-SEQUENCE"), "6");
  for (int i = 2; i <= 9; ++i) EXPECT_TRUE(hls.segment("seg-" + std::to_string(i) + ".ts")) << i;
  EXPECT_FALSE(hls.segment("seg-1.ts"));
  EXPECT_FALSE(hls.segment("seg-10.ts"));  // in progress
  for (auto bad : {"seg-.ts", "seg-7.ts.bak", "../seg-7.ts", "seg-7", "seg--7.ts", "seg-99999999999999999999.ts"})
    EXPECT_FALSE(hls.segment(bad)) << bad;
}

TEST(HlsPackager, EverySegmentStartsWithTablesAndAKeyframe) {
  HlsPackager hls({.target_duration_ms = 1000, .window_segments = 6}, fixed_clock());
  hls.on_event(tracks_event(synthetic_tracks(), true));
  // Start mid-GOP: the frames before the first keyframe are not segmented.
  hls.on_event(MediaEvent::of_packet(video(-80, false)));
  hls.on_event(MediaEvent::of_packet(audio(-60)));
  for (int64_t t = 0; t < 5000; t += 40) {
    hls.on_event(MediaEvent::of_packet(video(t, t % 1000 == 0)));
    hls.on_event(MediaEvent::of_packet(audio(t + 10)));
  }
  auto playlist = hls.playlist();
  ASSERT_TRUE(playlist);
  const auto names = segment_names(*playlist);
  ASSERT_EQ(names.size(), 4u);
  for (const auto& name : names) {
    auto data = hls.segment(name);
    ASSERT_TRUE(data);
    auto ts = fixtures::inspect_ts(std::span(reinterpret_cast<const uint8_t*>(data->data()), data->size()));
    ASSERT_TRUE(ts.errors.empty()) << name << ": " << ts.errors.front();
    ASSERT_GE(ts.packet_pids.size(), 3u);
    EXPECT_EQ(ts.packet_pids[0], 0);       // PAT
    EXPECT_EQ(ts.packet_pids[1], 0x1000);  // PMT
    ASSERT_FALSE(ts.pes.empty());
    EXPECT_EQ(ts.pes[0].pid, 0x100);
    EXPECT_TRUE(ts.pes[0].random_access);
    EXPECT_EQ(ts.pes.size(), 50u);  // 25 video + 25 audio per second
  }
}

TEST(HlsPackager, NewSessionIsADiscontinuityCountedWhenItSlidesOut) {
  HlsPackager hls({.target_duration_ms = 1000, .window_segments = 3}, fixed_clock());
  hls.on_event(tracks_event(synthetic_tracks(), true));
  feed_video(hls, 0, 3000, 1000);
  // The publisher leaves: the segment in progress (2000..2960 + one frame) completes.
  hls.on_event(MediaEvent::publisher_left());
  auto playlist = hls.playlist();
  ASSERT_TRUE(playlist);
  EXPECT_EQ(extinfs(*playlist), (std::vector<std::string>{"1.000", "1.000", "1.000"}));
  // A new publisher; the hub's timeline continues.
  hls.on_event(tracks_event(synthetic_tracks(), true));
  feed_video(hls, 3500, 5600, 1000);
  playlist = hls.playlist();
  EXPECT_EQ(count(*playlist, "#EXT-X-DISCONTINUITY\n"), 1);
  EXPECT_NE(playlist->find("#EXT-X-DISCONTINUITY\n#EXT-X-PROGRAM-DATE-TIME:2027-01-15T08:00:00.000Z\n#EXTINF:1.000,\nseg-3.ts"),
            std::string::npos)
      << *playlist;
  EXPECT_EQ(tag_value(*playlist, "EXT-X-DISCONTINUITY-SEQUENCE"), "0");
  feed_video(hls, 5600, 12000, 1000);
  playlist = hls.playlist();
  EXPECT_EQ(count(*playlist, "#EXT-X-DISCONTINUITY\n"), 0);
  EXPECT_EQ(tag_value(*playlist, "EXT-X-DISCONTINUITY-SEQUENCE"), "1");
}

TEST(HlsPackager, CodecChangeIsADiscontinuityButARepeatIsNot) {
  HlsPackager hls({.target_duration_ms = 1000, .window_segments = 10}, fixed_clock());
  TrackSet tracks = synthetic_tracks();
  hls.on_event(tracks_event(tracks, true));
  feed_video(hls, 0, 2000, 1000);
  hls.on_event(tracks_event(tracks, false));  // the same tracks again: nothing happens
  feed_video(hls, 2000, 3040, 1000);
  auto playlist = hls.playlist();
  ASSERT_TRUE(playlist);
  EXPECT_EQ(count(*playlist, "#EXT-X-DISCONTINUITY\n"), 0);
  EXPECT_EQ(extinfs(*playlist).size(), 3u);
  // New decoder configuration mid-session (the encoder restarted with other settings).
  tracks.video->decoder_config = fixtures::kAvcConfig720pHigh;
  hls.on_event(tracks_event(tracks, false));
  feed_video(hls, 3100, 5000, 1000);
  playlist = hls.playlist();
  EXPECT_EQ(count(*playlist, "#EXT-X-DISCONTINUITY\n"), 1);
  EXPECT_EQ(extinfs(*playlist), (std::vector<std::string>{"1.000", "1.000", "1.000", "0.040", "1.000"}));
}

TEST(HlsPackager, AudioOnlyStreamsAreCutByTime) {
  HlsPackager hls({.target_duration_ms = 1000, .window_segments = 6}, fixed_clock());
  TrackSet tracks = synthetic_tracks();
  tracks.video.reset();
  hls.on_event(tracks_event(tracks, true));
  // AAC at 48 kHz: 1024 samples = 21.333 ms; in 90 kHz: 1920 ticks.
  for (int i = 0; i < 200; ++i) {
    Packet p = *audio(0);
    p.time_base = k90kHz;
    p.dts = p.pts = int64_t{i} * 1920;
    hls.on_event(MediaEvent::of_packet(std::make_shared<const Packet>(std::move(p))));
  }
  auto playlist = hls.playlist();
  ASSERT_TRUE(playlist);
  // 47 frames = 1002.667 ms is the first multiple past 1 s.
  EXPECT_EQ(extinfs(*playlist), (std::vector<std::string>{"1.003", "1.003", "1.003", "1.003"}));
  auto data = hls.segment("seg-1.ts");
  ASSERT_TRUE(data);
  auto ts = fixtures::inspect_ts(std::span(reinterpret_cast<const uint8_t*>(data->data()), data->size()));
  ASSERT_TRUE(ts.errors.empty());
  EXPECT_EQ(ts.pcr_pid, 0x101);
  EXPECT_EQ(ts.pes.size(), 47u);
}

TEST(HlsPackager, StreamClosedEndsThePlaylist) {
  HlsPackager hls({.target_duration_ms = 1000, .window_segments = 6}, fixed_clock());
  hls.on_event(tracks_event(synthetic_tracks(), true));
  feed_video(hls, 0, 1500, 1000);
  hls.on_event(MediaEvent::closed());
  auto playlist = hls.playlist();
  ASSERT_TRUE(playlist);
  EXPECT_EQ(extinfs(*playlist), (std::vector<std::string>{"1.000", "0.520"}));
  EXPECT_TRUE(playlist->ends_with("#EXT-X-ENDLIST\n"));
}

TEST(HlsPackager, ReadersOnOtherThreadsSeeConsistentState) {
  HlsPackager hls({.target_duration_ms = 200, .window_segments = 3}, fixed_clock());
  std::atomic<bool> done{false};
  std::thread reader([&] {
    while (!done) {
      if (auto p = hls.playlist())
        for (const auto& name : segment_names(*p)) (void)hls.segment(name);
    }
  });
  hls.on_event(tracks_event(synthetic_tracks(), true));
  feed_video(hls, 0, 60000, 200);
  done = true;
  reader.join();
  // Segments 0..298 are complete; 15 x 0.2 s stay listed (three target durations of 1 s).
  EXPECT_EQ(tag_value(*hls.playlist(), "EXT-X-MEDIA-SEQUENCE"), "284");
}

// What a player gets: the segments concatenated are one valid TS that FFmpeg demuxes
// and decodes completely, with the right codecs.
TEST(HlsPackager, FfprobeDecodesTheConcatenatedSegments) {
  const auto flv = fixtures::load_small_flv();
  HlsPackager hls({.target_duration_ms = 1000, .window_segments = 10}, fixed_clock());
  hls.on_event(tracks_event(flv.tracks, true));
  for (const auto& p : fixtures::repeat_packets(flv.packets, 5, 800)) hls.on_event(MediaEvent::of_packet(p));
  hls.on_event(MediaEvent::publisher_left());
  auto playlist = hls.playlist();
  ASSERT_TRUE(playlist);
  EXPECT_EQ(extinfs(*playlist), (std::vector<std::string>{"1.200", "1.200", "1.200", "0.400"}));
  const auto path = fixtures::temp_path(".ts");
  {
    std::ofstream f(path, std::ios::binary);
    for (const auto& name : segment_names(*playlist)) {
      auto data = hls.segment(name);
      ASSERT_TRUE(data);
      f << *data;
    }
  }
  int status = -1;
  const auto streams = fixtures::run_command(
      "ffprobe -v error -count_frames -show_entries stream=codec_name,width,height,sample_rate,nb_read_frames "
      "-of compact " + path, &status);
  EXPECT_EQ(status, 0);
  EXPECT_NE(streams.find("codec_name=h264|width=320|height=180|nb_read_frames=100"), std::string::npos) << streams;
  EXPECT_NE(streams.find("codec_name=aac|sample_rate=48000"), std::string::npos) << streams;
  const auto warnings = fixtures::run_command("ffmpeg -nostdin -v warning -i " + path + " -f null - 2>&1", &status);
  EXPECT_EQ(status, 0);
  EXPECT_EQ(warnings, "");
  std::remove(path.c_str());
}

}  // namespace
}  // namespace anchorcast
