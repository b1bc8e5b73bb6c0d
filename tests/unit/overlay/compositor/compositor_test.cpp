// The compositor service against a real hub: real H.264 in (made by the ffmpeg CLI), the
// main rendition out, `applied` and cues stamped with the pts of the frame that shows a
// change.
#include "overlay/compositor/compositor.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "anchorcast/core/metrics.hpp"
#include "anchorcast/hub/hub.hpp"
#include "h264_test_stream.hpp"
#include "wait_until.hpp"

namespace anchorcast::compositor {
namespace {

using namespace std::chrono_literals;

overlay::OverlayRecord card(const std::string& id) {
  overlay::OverlayRecord r;
  r.overlay.kind = control::OverlayKind::card;
  r.overlay.id = id;
  r.overlay.title = "真丝连衣裙 Silk dress";
  r.overlay.price = "¥299";
  r.overlay.position = control::Position::bottom_left;
  return r;
}

ScenePtr scene(uint64_t version, std::vector<overlay::OverlayRecord> overlays) {
  auto s = std::make_shared<Scene>();
  s->version = version;
  s->overlays = std::move(overlays);
  s->overlays_json = "[]";
  return s;
}

struct Applied {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<std::pair<uint64_t, int64_t>> reports;  // (version, pts_ms)
  std::vector<std::pair<uint64_t, int64_t>> at_once;   // reported on set_scene's caller's thread
  std::thread::id caller = std::this_thread::get_id();

  void report(uint64_t version, int64_t pts) {
    std::lock_guard lock(mutex);
    reports.emplace_back(version, pts);
    if (std::this_thread::get_id() == caller) at_once.emplace_back(version, pts);
    changed.notify_all();
  }
  std::optional<int64_t> reported_at_once(uint64_t version) {
    std::lock_guard lock(mutex);
    for (auto& [v, p] : at_once)
      if (v == version) return p;
    return std::nullopt;
  }

  std::optional<int64_t> wait_for(uint64_t version, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex);
    std::optional<int64_t> pts;
    changed.wait_for(lock, timeout, [&] {
      for (auto& [v, p] : reports)
        if (v == version) pts = p;
      return pts.has_value();
    });
    return pts;
  }
};

class CompositorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(hub_.add("shop", "shop-key", /*composited=*/true).ok());
    source_ = hub_.find("shop", Rendition::source);
    main_ = hub_.find("shop", Rendition::main);
    auto no_images = [](const std::string&) { return std::shared_ptr<const std::string>(); };
    auto applied = [this](uint64_t v, int64_t pts) { applied_.report(v, pts); };
    compositor_ = std::make_unique<Compositor>(source_, main_, no_images, applied, metrics_);
    compositor_->start(scene(0, {}));
    viewer_ = main_->subscribe({});
  }
  void TearDown() override { compositor_->stop(); }

  // Publishes `stream` on the source at its own pace (a live anchor: 30 fps, not a burst
  // the compositor would rightly drop as too late), calling `at_frame(i)` before frame i.
  void publish(const anchorcast::testing::H264Stream& stream, const std::function<void(size_t)>& at_frame) {
    auto publisher = std::move(source_->begin_publish("test").value());
    TrackSet tracks;
    tracks.video = stream.track;
    publisher->set_tracks(tracks);
    auto next = std::chrono::steady_clock::now();
    for (size_t i = 0; i < stream.packets.size(); ++i) {
      at_frame(i);
      Packet p = stream.packets[i];
      publisher->push(std::move(p));
      next += 33ms;
      std::this_thread::sleep_until(next);
    }
  }

  std::vector<MediaEvent> main_events() {
    std::vector<MediaEvent> out;
    viewer_->pop_all(out);
    return out;
  }

  Hub hub_;
  Metrics metrics_;
  std::shared_ptr<Stream> source_, main_;
  std::unique_ptr<Compositor> compositor_;
  std::unique_ptr<Subscription> viewer_;
  Applied applied_;
};

TEST_F(CompositorTest, WhileTheAnchorIsOfflineAChangeAppliesAtOnceAndIsCued) {
  compositor_->set_scene(scene(1, {card("c1")}), {1});
  auto at = applied_.reported_at_once(1);
  ASSERT_TRUE(at.has_value()) << "set_scene reports applied before it returns";
  EXPECT_EQ(*at, main_->output_position_ms());
  ASSERT_TRUE(main_->latest_cue());
  EXPECT_EQ(main_->latest_cue()->version, 1u);
  EXPECT_EQ(main_->latest_cue()->pts_ms, *at);
}

TEST_F(CompositorTest, MainRenditionCarriesReencodedVideoAndAppliedNamesTheFrameThatShowsTheChange) {
  auto stream = anchorcast::testing::make_test_stream(640, 360, 30, 3.0, "-preset veryfast -bf 0 -g 30");
  ASSERT_GE(stream.packets.size(), 80u);
  std::optional<int64_t> immediate;
  publish(stream, [&](size_t i) {
    if (i == 45) {
      compositor_->set_scene(scene(2, {card("c1")}), {2});
      immediate = applied_.reported_at_once(2);
    }
  });
  EXPECT_FALSE(immediate.has_value()) << "with frames flowing, applied must wait for a frame";
  auto pts = applied_.wait_for(2, 5s);
  ASSERT_TRUE(pts.has_value()) << "no applied report for version 2";

  auto events = main_events();
  ASSERT_FALSE(events.empty());
  ASSERT_EQ(events.front().type, MediaEvent::Type::tracks);
  ASSERT_TRUE(events.front().tracks->video);
  EXPECT_EQ(events.front().tracks->video->width, 640);
  EXPECT_NE(events.front().tracks->video->decoder_config, stream.track.decoder_config)
      << "main must carry our encoder's parameter sets, not the source's";
  size_t frames = 0, keyframes = 0;
  bool frame_at_applied = false;
  std::optional<int64_t> cue_pts;
  int64_t last_video_pts = -1;
  for (const auto& e : events) {
    if (e.type == MediaEvent::Type::packet && e.packet->kind == MediaKind::video) {
      ++frames;
      keyframes += e.packet->keyframe;
      EXPECT_EQ(e.packet->pts, e.packet->dts) << "the main rendition has no B-frames";
      last_video_pts = e.packet->pts_in(kMillis);
      if (last_video_pts == *pts) frame_at_applied = true;
    }
    if (e.type == MediaEvent::Type::cue && e.cue->version == 2) {
      cue_pts = e.cue->pts_ms;
      EXPECT_EQ(last_video_pts, e.cue->pts_ms) << "the cue follows the frame that shows the change";
    }
  }
  EXPECT_TRUE(frame_at_applied) << "applied pts " << *pts << " is not a main frame's pts";
  ASSERT_TRUE(cue_pts.has_value());
  EXPECT_EQ(*cue_pts, *pts);
  // The change was set before source frame 45 (1.5 s in): it shows within two frames.
  int64_t source_pts_45 = stream.packets[45].pts_in(kMillis);
  EXPECT_GE(*pts, source_pts_45 - 34);
  EXPECT_LE(*pts, source_pts_45 + 2 * 34);
  // Paced input: (nearly) every source frame comes out — a loaded CI machine may make the
  // compositor drop a late one, never a keyframe — and keyframes are where the source has them.
  EXPECT_GE(frames * 10, stream.packets.size() * 9);
  EXPECT_LE(frames, stream.packets.size());
  size_t source_keyframes = 0;
  for (const auto& p : stream.packets) source_keyframes += p.keyframe;
  EXPECT_EQ(keyframes, source_keyframes);
}

// An HEVC source (E-RTMP, SRT) composites the same way; main is H.264 for every player.
TEST_F(CompositorTest, HevcSourceBecomesAnH264MainRendition) {
  auto stream = anchorcast::testing::make_hevc_test_stream(320, 180, 30, 1.0, "keyint=15:bframes=0");
  ASSERT_EQ(stream.packets.size(), 30u);
  publish(stream, [](size_t) {});
  size_t frames = 0;
  std::optional<VideoTrack> track;
  ASSERT_TRUE(test::wait_until(
      [&] {
        for (const auto& e : main_events()) {
          if (e.type == MediaEvent::Type::tracks && e.tracks->video) track = *e.tracks->video;
          if (e.type == MediaEvent::Type::packet && e.packet->kind == MediaKind::video) {
            EXPECT_EQ(e.packet->codec, Codec::h264);
            ++frames;
          }
        }
        return frames * 10 >= stream.packets.size() * 9;
      },
      5s))
      << frames << " H.264 frames on main";
  ASSERT_TRUE(track);
  EXPECT_EQ(track->codec, Codec::h264);
  EXPECT_EQ(track->width, 320);
  EXPECT_EQ(track->height, 180);
}

TEST_F(CompositorTest, WhenTheAnchorLeavesMainEndsItsSessionAndChangesApplyAtOnceAgain) {
  auto stream = anchorcast::testing::make_test_stream(320, 180, 30, 1.0, "-preset veryfast -bf 0 -g 15");
  publish(stream, [](size_t) {});
  // The publisher is gone (destroyed at the end of publish): main follows.
  bool gone = false;
  for (int i = 0; i < 200 && !gone; ++i) {
    for (const auto& e : main_events()) gone |= e.type == MediaEvent::Type::publisher_gone;
    if (!gone) std::this_thread::sleep_for(10ms);
  }
  EXPECT_TRUE(gone);
  std::optional<int64_t> at;
  for (int i = 0; i < 200 && !at; ++i) {  // the worker marks itself idle right after
    auto version = static_cast<uint64_t>(3 + i);
    compositor_->set_scene(scene(version, {}), {version});
    at = applied_.reported_at_once(version);
    if (!at) std::this_thread::sleep_for(10ms);
  }
  EXPECT_TRUE(at.has_value());
}

}  // namespace
}  // namespace anchorcast::compositor
