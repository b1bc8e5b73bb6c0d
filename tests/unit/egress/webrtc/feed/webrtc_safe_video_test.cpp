// The WebRTC-safe video of a feed: a B-frame source is transcoded once to H.264 without
// B-frames, keyframes where the source has them; a source without B-frames passes
// through untouched.
#include "relay/egress/webrtc/feed/webrtc_safe_video.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

extern "C" {
#include <libavutil/log.h>
}

#include "anchorcast/core/metrics.hpp"
#include "h264_test_stream.hpp"
#include "relay/codec/video_decoder.hpp"
#include "relay/protocol/h264/avc_decoder_config.hpp"
#include "relay/protocol/h264/sps.hpp"

namespace anchorcast::webrtc {
namespace {

using anchorcast::testing::H264Stream;
using anchorcast::testing::make_hevc_test_stream;
using anchorcast::testing::make_test_stream;

// x264 prints its settings and statistics on every open and close.
const bool kQuietLibav = (av_log_set_level(AV_LOG_ERROR), true);

struct Output {
  std::vector<Packet> packets;
  std::vector<const Packet*> passed_through;
  int track_changes = 0;
  bool track_changed_before_first_packet = false;
};

Output push_all(WebRtcSafeVideo& video, const H264Stream& stream) {
  Output out;
  std::vector<Packet> ready;
  for (const Packet& p : stream.packets) {
    bool changed = false;
    ready.clear();
    const Packet* same = video.push(p, std::chrono::steady_clock::now(), ready, changed);
    if (same) out.passed_through.push_back(same);
    if (changed) {
      ++out.track_changes;
      if (out.packets.empty()) out.track_changed_before_first_packet = true;
    }
    for (auto& r : ready) out.packets.push_back(std::move(r));
  }
  return out;
}

int decoded_frames(const VideoTrack& track, const std::vector<Packet>& packets) {
  codec::VideoDecoder decoder;
  EXPECT_TRUE(decoder.open(track).ok());
  int frames = 0;
  auto collect = [&] {
    for (;;) {
      auto f = decoder.receive();
      EXPECT_TRUE(f.ok());
      if (!f || !*f) return;
      ++frames;
    }
  };
  for (const Packet& p : packets) {
    EXPECT_TRUE(decoder.send(p).ok());
    collect();
  }
  EXPECT_TRUE(decoder.drain().ok());
  collect();
  return frames;
}

TEST(WebRtcSafeVideo, BFrameSourceIsTranscodedWithoutBFramesKeyframesWhereTheSourceHasThem) {
  const H264Stream source = make_test_stream(320, 240, 30, 3.0, "-preset veryfast -bf 3 -g 30");
  ASSERT_EQ(source.packets.size(), 90u);
  ASSERT_TRUE(std::any_of(source.packets.begin(), source.packets.end(),
                          [](const Packet& p) { return p.pts != p.dts; }))
      << "the source must have B-frames for this test to mean anything";
  Metrics metrics;
  WebRtcSafeVideo video("test", TranscodeMetrics::in(metrics, "demo", "main"));
  video.set_source(source.track, true);
  EXPECT_EQ(video.delivery(), VideoDelivery::passthrough) << "nothing says B-frames before the first packet";

  const Output out = push_all(video, source);
  EXPECT_EQ(video.delivery(), VideoDelivery::transcoded);
  EXPECT_TRUE(video.transcoder_running());
  EXPECT_TRUE(out.passed_through.empty()) << "the first packet already has pts != dts";
  EXPECT_EQ(out.track_changes, 1);
  EXPECT_TRUE(out.track_changed_before_first_packet);
  // All but the frames still in the decoder's reorder window (at most 3 with -bf 3).
  ASSERT_GE(out.packets.size(), source.packets.size() - 3);
  ASSERT_LE(out.packets.size(), source.packets.size());

  std::set<int64_t> source_keyframes;
  for (const Packet& p : source.packets)
    if (p.keyframe) source_keyframes.insert(p.pts);
  ASSERT_EQ(source_keyframes.size(), 3u);
  std::set<int64_t> output_keyframes;
  for (size_t i = 0; i < out.packets.size(); ++i) {
    const Packet& p = out.packets[i];
    EXPECT_EQ(p.codec, Codec::h264);
    EXPECT_EQ(p.pts, p.dts) << "packet " << i << ": no B-frames out";
    if (i > 0) EXPECT_GT(p.pts, out.packets[i - 1].pts) << "packet " << i << ": presentation order";
    if (p.keyframe) output_keyframes.insert(p.pts);
  }
  EXPECT_EQ(output_keyframes, source_keyframes) << "keyframes exactly where the source has them (GOP 1 s < 2 s)";
  EXPECT_EQ(out.packets.front().pts, *source_keyframes.begin());

  const auto track = video.output_track();
  ASSERT_TRUE(track);
  EXPECT_EQ(track->width, 320);
  EXPECT_EQ(track->height, 240);
  auto config = h264::parse_avc_decoder_config(track->decoder_config);
  ASSERT_TRUE(config.ok());
  auto sps = h264::parse_sps(config->sps.at(0));
  ASSERT_TRUE(sps.ok());
  // Constrained Baseline (RFC 7742: what every WebRTC endpoint decodes): profile_idc 66
  // with constraint_set1_flag.
  EXPECT_EQ(sps->profile_idc, 66);
  const std::string plid = sps->profile_level_id();
  EXPECT_EQ(plid.substr(0, 2), "42") << plid;
  EXPECT_TRUE(std::stoi(plid.substr(2, 2), nullptr, 16) & 0x40) << plid;
  EXPECT_EQ(decoded_frames(*track, out.packets), static_cast<int>(out.packets.size()));

  const auto labels = std::vector<std::pair<std::string, std::string>>{{"stream", "demo"}, {"rendition", "main"}};
  EXPECT_EQ(metrics.counter("anchorcast_webrtc_transcode_starts_total", "", labels).value(), 1u);
  EXPECT_EQ(metrics.counter("anchorcast_webrtc_transcode_frames_total", "", labels).value(), out.packets.size());
  EXPECT_GT(metrics.counter("anchorcast_webrtc_transcode_cpu_microseconds_total", "", labels).value(), 0u);
}

TEST(WebRtcSafeVideo, SourceWithoutBFramesPassesThroughUntouched) {
  const H264Stream source = make_test_stream(320, 240, 30, 1.0, "-preset veryfast -bf 0 -g 30");
  Metrics metrics;
  WebRtcSafeVideo video("test", TranscodeMetrics::in(metrics, "demo", "main"));
  video.set_source(source.track, true);
  const Output out = push_all(video, source);
  EXPECT_EQ(video.delivery(), VideoDelivery::passthrough);
  EXPECT_FALSE(video.transcoder_running());
  EXPECT_TRUE(out.packets.empty());
  ASSERT_EQ(out.passed_through.size(), source.packets.size());
  for (size_t i = 0; i < source.packets.size(); ++i) EXPECT_EQ(out.passed_through[i], &source.packets[i]);
  ASSERT_TRUE(video.output_track());
  EXPECT_EQ(*video.output_track(), source.track);
  const auto labels = std::vector<std::pair<std::string, std::string>>{{"stream", "demo"}, {"rendition", "main"}};
  EXPECT_EQ(metrics.counter("anchorcast_webrtc_transcode_starts_total", "", labels).value(), 0u);
}

TEST(WebRtcSafeVideo, ANewSessionWithoutBFramesGoesBackToPassthrough) {
  const H264Stream with_b = make_test_stream(320, 240, 30, 1.0, "-preset veryfast -bf 2 -g 30");
  const H264Stream without_b = make_test_stream(320, 240, 30, 1.0, "-preset veryfast -bf 0 -g 30");
  WebRtcSafeVideo video("test", {});
  video.set_source(with_b.track, true);
  push_all(video, with_b);
  ASSERT_EQ(video.delivery(), VideoDelivery::transcoded);
  // The same session re-announcing its tracks keeps the transcode.
  video.set_source(with_b.track, false);
  EXPECT_EQ(video.delivery(), VideoDelivery::transcoded);
  video.set_source(without_b.track, true);
  EXPECT_EQ(video.delivery(), VideoDelivery::passthrough);
  EXPECT_FALSE(video.transcoder_running());
  const Output out = push_all(video, without_b);
  EXPECT_EQ(out.passed_through.size(), without_b.packets.size());
  EXPECT_TRUE(out.packets.empty());
}

TEST(WebRtcSafeVideo, HevcSourceIsTranscodedToH264FromItsFirstPacket) {
  const H264Stream source = make_hevc_test_stream(320, 240, 30, 2.0, "keyint=30:bframes=0");
  ASSERT_EQ(source.packets.size(), 60u);
  ASSERT_TRUE(source.packets.front().keyframe);
  WebRtcSafeVideo video("test", {});
  video.set_source(source.track, true);
  EXPECT_EQ(video.delivery(), VideoDelivery::transcoded) << "browsers take no HEVC over WebRTC";
  EXPECT_TRUE(video.transcoder_running());
  const Output out = push_all(video, source);
  EXPECT_TRUE(out.passed_through.empty());
  EXPECT_TRUE(out.track_changed_before_first_packet);
  ASSERT_EQ(out.packets.size(), source.packets.size()) << "no B-frames in: a packet in is a packet out";
  for (size_t i = 0; i < out.packets.size(); ++i) {
    EXPECT_EQ(out.packets[i].codec, Codec::h264);
    EXPECT_EQ(out.packets[i].pts, source.packets[i].pts);
    EXPECT_EQ(out.packets[i].keyframe, source.packets[i].keyframe) << i;
  }
  const auto track = video.output_track();
  ASSERT_TRUE(track);
  EXPECT_EQ(track->codec, Codec::h264);
  EXPECT_EQ(decoded_frames(*track, out.packets), 60);
}

TEST(WebRtcSafeVideo, ExpectedDeliveryFollowsWhatTheHubHasSeen) {
  StreamSnapshot s;
  EXPECT_EQ(expected_delivery(s), VideoDelivery::none);
  TrackSet tracks;
  tracks.video = VideoTrack{};
  s.tracks = std::make_shared<const TrackSet>(tracks);
  EXPECT_EQ(expected_delivery(s), VideoDelivery::passthrough);
  s.b_frames = true;
  EXPECT_EQ(expected_delivery(s), VideoDelivery::transcoded);
  tracks.video->codec = Codec::hevc;
  s.b_frames = false;
  s.tracks = std::make_shared<const TrackSet>(tracks);
  EXPECT_EQ(expected_delivery(s), VideoDelivery::transcoded);
}

}  // namespace
}  // namespace anchorcast::webrtc
