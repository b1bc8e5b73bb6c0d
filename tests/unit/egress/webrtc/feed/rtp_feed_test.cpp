// RtpFeed driven by a real hub Stream: a publisher pushes H.264 access units and real
// AAC; subscriptions receive the latest GOP then live RTP that depacketizes back to the
// access units, Opus audio, replays on PLI, NACK history, and an end when the stream goes.
#include "relay/egress/webrtc/feed/rtp_feed.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "aac_source.hpp"
#include "media_fixtures.hpp"
#include "wait_until.hpp"
#include "relay/egress/webrtc/feed/rtp_feed_registry.hpp"
#include "relay/protocol/rtp/h264_depacketizer.hpp"
#include "relay/protocol/rtp/rtp_header.hpp"

namespace anchorcast::webrtc {
namespace {

using namespace std::chrono_literals;
using test::wait_until;

// Collects a subscription's items on the test thread; notify only signals.
struct Viewer {
  std::mutex mutex;
  std::condition_variable cv;
  int notified = 0;
  std::unique_ptr<RtpFeedSubscription> subscription;
  std::vector<RtpFeedItem> items;

  explicit Viewer(RtpFeed& feed, size_t capacity = 4096) {
    subscription = feed.attach({.queue_capacity = capacity, .notify = [this] {
                                  std::lock_guard lock(mutex);
                                  ++notified;
                                  cv.notify_all();
                                }});
  }
  // Drains until `done(items)` holds or 5 s pass.
  template <class Done>
  bool wait_for(Done done) {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (true) {
      subscription->pop_all(items);
      if (done(items)) return true;
      std::unique_lock lock(mutex);
      if (cv.wait_until(lock, deadline, [&] { return notified > 0; })) {
        notified = 0;
        continue;
      }
      subscription->pop_all(items);
      return done(items);
    }
  }
};

std::vector<uint8_t> avcc(std::initializer_list<std::vector<uint8_t>> nals) {
  std::vector<uint8_t> out;
  for (const auto& nal : nals) {
    const size_t n = nal.size();
    out.insert(out.end(), {uint8_t(n >> 24), uint8_t(n >> 16), uint8_t(n >> 8), uint8_t(n)});
    out.insert(out.end(), nal.begin(), nal.end());
  }
  return out;
}

Packet video_packet(int index, bool keyframe, size_t size = 3000, int64_t cts_ms = 0) {
  Packet p;
  p.kind = MediaKind::video;
  p.codec = Codec::h264;
  p.keyframe = keyframe;
  p.time_base = kMillis;
  p.dts = index * 40;
  p.pts = p.dts + cts_ms;
  std::vector<uint8_t> slice(size, static_cast<uint8_t>(index));
  slice[0] = keyframe ? 0x65 : 0x41;
  p.payload = avcc({slice});
  return p;
}

TrackSet tracks(const std::vector<uint8_t>& asc) {
  TrackSet t;
  t.video = VideoTrack{Codec::h264, 1280, 720, 25, fixtures::kAvcConfig720pHigh};
  t.audio = AudioTrack{Codec::aac, 44100, 2, asc};
  return t;
}

size_t count_video(const std::vector<RtpFeedItem>& items) {
  size_t n = 0;
  for (const auto& i : items) n += i.packet->kind == MediaKind::video;
  return n;
}

std::vector<rtp::AccessUnit> depacketize(const std::vector<RtpFeedItem>& items) {
  rtp::H264Depacketizer d;
  std::vector<rtp::AccessUnit> out;
  for (const auto& item : items) {
    if (item.packet->kind != MediaKind::video) continue;
    auto v = rtp::parse_rtp(item.packet->bytes);
    EXPECT_TRUE(v.ok());
    auto r = d.push(v->payload, v->header.sequence, v->header.timestamp, v->header.marker);
    EXPECT_TRUE(r.ok()) << r.error().message;
    if (r.ok() && *r) out.push_back(std::move(**r));
  }
  return out;
}

class RtpFeedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    aac_ = testing::make_aac(1.0);
    ASSERT_FALSE(aac_.frames.empty()) << "ffmpeg produced no AAC";
    stream_ = std::make_shared<Stream>("demo", "key");
    auto publisher = stream_->begin_publish("test");
    ASSERT_TRUE(publisher.ok());
    publisher_ = std::move(*publisher);
    publisher_->set_tracks(tracks(aac_.audio_specific_config));
  }
  void push_audio(size_t index) {
    Packet p;
    p.kind = MediaKind::audio;
    p.codec = Codec::aac;
    p.keyframe = true;
    p.time_base = kMicros;
    p.dts = p.pts = static_cast<int64_t>(index) * 1024 * 1000000 / 44100;
    p.payload = aac_.frames[index % aac_.frames.size()];
    publisher_->push(std::move(p));
  }

  testing::AacSource aac_;
  std::shared_ptr<Stream> stream_;
  std::unique_ptr<StreamPublisher> publisher_;
};

TEST_F(RtpFeedTest, DescribesTheSourceAtOnce) {
  auto feed = RtpFeed::create(stream_, "demo/main");
  FeedDescription d = feed->description();
  EXPECT_TRUE(d.has_video);
  EXPECT_TRUE(d.has_audio);
  EXPECT_EQ(d.profile_level_id, "64001f");
  EXPECT_NE(d.video_ssrc, 0u);
  EXPECT_NE(d.video_ssrc, d.audio_ssrc);
  EXPECT_EQ(d.msid_stream, "demo-main");
  EXPECT_EQ(d.video, VideoDelivery::passthrough);
}

TEST_F(RtpFeedTest, NewViewerStartsAtTheLatestKeyframeThenGetsLivePackets) {
  // Two GOPs before anyone watches; the viewer must start at the second keyframe.
  for (int i = 0; i < 10; ++i) publisher_->push(video_packet(i, i % 5 == 0));
  auto feed = RtpFeed::create(stream_, "demo");
  Viewer viewer(*feed);
  ASSERT_TRUE(viewer.wait_for([](auto& items) { return count_video(items) > 0 && items.back().packet->marker; }));
  ASSERT_FALSE(viewer.items.empty());
  EXPECT_TRUE(viewer.items.front().packet->keyframe_start);
  EXPECT_TRUE(viewer.items.front().replayed);
  auto replayed = depacketize(viewer.items);
  ASSERT_EQ(replayed.size(), 5u);  // frames 5..9
  EXPECT_TRUE(replayed[0].keyframe);

  viewer.items.clear();
  for (int i = 10; i < 13; ++i) publisher_->push(video_packet(i, false, 5000));
  ASSERT_TRUE(viewer.wait_for([](auto& items) {
    size_t markers = 0;
    for (auto& i : items) markers += i.packet->marker;
    return markers == 3;
  }));
  for (const auto& item : viewer.items) EXPECT_FALSE(item.replayed);
  // Contiguous sequence numbers across the replay/live boundary, 90 kHz timestamps.
  for (size_t i = 1; i < viewer.items.size(); ++i)
    EXPECT_EQ(viewer.items[i].packet->sequence, static_cast<uint16_t>(viewer.items[i - 1].packet->sequence + 1));
  std::vector<rtp::AccessUnit> live = depacketize(viewer.items);
  ASSERT_EQ(live.size(), 3u);
  EXPECT_EQ(live[1].timestamp - live[0].timestamp, 40u * 90);
  EXPECT_EQ(live[0].avcc, video_packet(10, false, 5000).payload);
}

TEST_F(RtpFeedTest, KeyframesCarrySpsAndPpsAndTheHistoryAnswersNacks) {
  auto feed = RtpFeed::create(stream_, "demo");
  Viewer viewer(*feed);
  publisher_->push(video_packet(0, true, 4000));
  ASSERT_TRUE(viewer.wait_for([](auto& items) { return !items.empty() && items.back().packet->marker; }));
  auto aus = depacketize(viewer.items);
  ASSERT_EQ(aus.size(), 1u);
  // SPS + PPS from the configuration, then the IDR (its own 4-byte length included above).
  std::vector<uint8_t> want = avcc({fixtures::kSps720pHigh, fixtures::kPps720pHigh});
  const auto idr = video_packet(0, true, 4000).payload;
  want.insert(want.end(), idr.begin(), idr.end());
  EXPECT_EQ(aus[0].avcc, want);
  for (const auto& item : viewer.items) {
    auto found = feed->find(MediaKind::video, item.packet->sequence);
    ASSERT_TRUE(found);
    EXPECT_EQ(found.get(), item.packet.get());
  }
  EXPECT_FALSE(feed->find(MediaKind::video, static_cast<uint16_t>(viewer.items.back().packet->sequence + 100)));
}

TEST_F(RtpFeedTest, PliReplaysTheLatestGop) {
  auto feed = RtpFeed::create(stream_, "demo");
  Viewer viewer(*feed);
  for (int i = 0; i < 4; ++i) publisher_->push(video_packet(i, i == 0));
  ASSERT_TRUE(viewer.wait_for([](auto& items) { return depacketize(items).size() == 4; }));
  const uint16_t keyframe_sequence = viewer.items.front().packet->sequence;
  viewer.items.clear();
  viewer.subscription->request_keyframe();
  ASSERT_TRUE(viewer.wait_for([](auto& items) { return depacketize(items).size() == 4; }));
  EXPECT_TRUE(viewer.items.front().replayed);
  EXPECT_TRUE(viewer.items.front().packet->keyframe_start);
  EXPECT_EQ(viewer.items.front().packet->sequence, keyframe_sequence);
}

TEST_F(RtpFeedTest, AudioIsTranscodedOnceToOpusOnTheVideoClock) {
  auto feed = RtpFeed::create(stream_, "demo");
  Viewer a(*feed);
  Viewer b(*feed);
  publisher_->push(video_packet(0, true));
  for (size_t i = 0; i < 43; ++i) push_audio(i);  // ~1 s
  auto enough_audio = [](auto& items) {
    size_t n = 0;
    for (auto& i : items) n += i.packet->kind == MediaKind::audio;
    return n >= 40;
  };
  ASSERT_TRUE(a.wait_for(enough_audio));
  ASSERT_TRUE(b.wait_for(enough_audio));
  std::vector<RtpPacketPtr> audio_a, audio_b;
  RtpPacketPtr video;
  for (auto& i : a.items) (i.packet->kind == MediaKind::audio ? audio_a.push_back(i.packet) : (void)(video = video ? video : i.packet));
  for (auto& i : b.items)
    if (i.packet->kind == MediaKind::audio) audio_b.push_back(i.packet);
  ASSERT_GE(audio_a.size(), 40u);
  // One transcode: both viewers hold the very same packets.
  for (size_t i = 0; i < std::min(audio_a.size(), audio_b.size()); ++i) EXPECT_EQ(audio_a[i].get(), audio_b[i].get());
  const FeedDescription d = feed->description();
  for (size_t i = 0; i < audio_a.size(); ++i) {
    auto v = rtp::parse_rtp(audio_a[i]->bytes);
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(v->header.ssrc, d.audio_ssrc);
    EXPECT_EQ(v->header.payload_type, d.audio_payload_type);
    EXPECT_FALSE(v->payload.empty());
    if (i > 0) {
      EXPECT_EQ(v->header.timestamp - audio_a[i - 1]->timestamp, 960u);
      EXPECT_EQ(v->header.sequence, static_cast<uint16_t>(audio_a[i - 1]->sequence + 1));
    }
  }
  // Same wall clock for both kinds: the first audio frame and the keyframe both start at
  // pts 0, so their wallclock_us agree within the AAC decoder's delay.
  ASSERT_TRUE(video);
  EXPECT_NEAR(static_cast<double>(audio_a.front()->wallclock_us - video->wallclock_us), 0.0, 50000.0);
  EXPECT_GE(feed->stats().opus_frames, 40u);
}

TEST_F(RtpFeedTest, APacketWithBFramesSwitchesTheFeedToItsTranscode) {
  auto feed = RtpFeed::create(stream_, "demo");
  Viewer viewer(*feed);
  EXPECT_EQ(feed->description().video, VideoDelivery::passthrough);
  publisher_->push(video_packet(0, true, 100, 80));
  ASSERT_TRUE(wait_until([&] { return feed->stats().video == VideoDelivery::transcoded; }));
  EXPECT_EQ(feed->description().video, VideoDelivery::transcoded);
  EXPECT_TRUE(feed->stats().transcoder_running);
}

TEST_F(RtpFeedTest, ASlowViewerOverflowsAndRestartsAtAReplay) {
  auto feed = RtpFeed::create(stream_, "demo");
  Viewer slow(*feed, 16);
  publisher_->push(video_packet(0, true, 100));
  ASSERT_TRUE(slow.wait_for([](auto& items) { return !items.empty(); }));
  slow.items.clear();
  // 40 packets while the viewer does not drain: its 16 slots overflow.
  publisher_->push(video_packet(1, false, 1100 * 40));
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (slow.subscription->dropped_packets() == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(1ms);
  EXPECT_GT(slow.subscription->dropped_packets(), 0u);
  // It is re-fed from the keyframe (the GOP is 41 packets, too many for 16 slots, so it
  // waits for the next keyframe instead).
  publisher_->push(video_packet(2, true, 100));
  ASSERT_TRUE(slow.wait_for([](auto& items) {
    for (auto& i : items)
      if (i.packet->keyframe_start) return true;
    return false;
  }));
  EXPECT_TRUE(slow.items.front().packet->keyframe_start);
}

TEST_F(RtpFeedTest, EndsWhenTheStreamIsClosed) {
  auto feed = RtpFeed::create(stream_, "demo");
  Viewer viewer(*feed);
  publisher_->push(video_packet(0, true));
  stream_->close();
  ASSERT_TRUE(viewer.wait_for([&](auto&) { return viewer.subscription->ended(); }));
}

TEST_F(RtpFeedTest, RegistrySharesOneFeedPerStream) {
  RtpFeedRegistry registry;
  auto a = registry.get(stream_, Rendition::main);
  auto b = registry.get(stream_, Rendition::main);
  // A metadata stream's main is its source: one feed (and one transcode) for both names.
  auto c = registry.get(stream_, Rendition::source);
  EXPECT_EQ(a.get(), b.get());
  EXPECT_EQ(a.get(), c.get());
  EXPECT_FALSE(registry.get(nullptr, Rendition::main));
}

TEST_F(RtpFeedTest, RegistryKeepsAnIdleFeedForItsLingerThenReleasesIt) {
  RtpFeedRegistry registry(nullptr, 300ms);
  std::weak_ptr<RtpFeed> first;
  {
    auto feed = registry.get(stream_, Rendition::main);
    first = feed;
    Viewer viewer(*feed);
    ASSERT_TRUE(registry.state(stream_.get()));
    EXPECT_EQ(registry.state(stream_.get())->subscribers, 1);
  }
  // The viewer left: the registry still holds the feed, and hands out that same one.
  ASSERT_FALSE(first.expired());
  const auto handed_out = std::chrono::steady_clock::now();
  EXPECT_EQ(registry.get(stream_, Rendition::main).get(), first.lock().get());
  ASSERT_TRUE(wait_until([&] { return first.expired(); }, 5s)) << "released once idle for the linger";
  EXPECT_GE(std::chrono::steady_clock::now() - handed_out, 300ms) << "idle counts from the last hand-out";
  EXPECT_FALSE(registry.state(stream_.get()));
  EXPECT_TRUE(registry.get(stream_, Rendition::main)) << "a new feed once the old one is gone";
}

// A WHEP session gets its feed before it attaches (after ICE and DTLS): a feed idle for
// the whole linger that is handed out again must not be released under it, or the next
// viewer would get a second feed (a second transcode).
TEST_F(RtpFeedTest, RegistryKeepsAFeedItJustHandedOut) {
  RtpFeedRegistry registry(nullptr, 200ms);
  std::weak_ptr<RtpFeed> weak = registry.get(stream_, Rendition::main);
  std::this_thread::sleep_for(150ms);  // idle most of the linger, never attached
  const auto handed_out = std::chrono::steady_clock::now();
  auto again = registry.get(stream_, Rendition::main);
  ASSERT_EQ(again.get(), weak.lock().get());
  again.reset();
  ASSERT_TRUE(wait_until([&] { return weak.expired(); }, 5s));
  EXPECT_GE(std::chrono::steady_clock::now() - handed_out, 200ms);
}

TEST_F(RtpFeedTest, RegistryKeepsAFeedWithAViewerPastItsLinger) {
  RtpFeedRegistry registry(nullptr, 50ms);
  auto feed = registry.get(stream_, Rendition::main);
  Viewer viewer(*feed);
  std::weak_ptr<RtpFeed> weak = feed;
  feed.reset();
  // Several release passes (each at most the linger apart) go by with the viewer attached.
  const auto until = std::chrono::steady_clock::now() + 400ms;
  while (std::chrono::steady_clock::now() < until) {
    ASSERT_TRUE(registry.state(stream_.get()));
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(registry.get(stream_, Rendition::main).get(), weak.lock().get());
}

TEST_F(RtpFeedTest, CountsItselfAsAnInternalSubscriber) {
  auto feed = RtpFeed::create(stream_, "demo");
  EXPECT_EQ(stream_->snapshot().viewers[static_cast<int>(ViewerProtocol::webrtc)], 0);
}

// A cue's rtp_timestamp is the timestamp of the video frame with its pts: the client
// matches them to the frame that shows the change (issue 7).
TEST_F(RtpFeedTest, CuesCarryTheRtpTimestampOfTheFrameWithTheirPts) {
  auto feed = RtpFeed::create(stream_, "demo");
  Viewer viewer(*feed);
  for (int i = 0; i < 6; ++i) publisher_->push(video_packet(i, i == 0));
  auto cue = std::make_shared<Cue>();
  cue->pts_ms = 3 * 40;  // frame 3
  cue->version = 7;
  cue->json = R"({"type":"overlays","version":7,"pts_ms":120,"overlays":[{"id":"c1","kind":"card"}]})";
  stream_->push_cue(cue);
  std::vector<FeedCuePtr> cues;
  ASSERT_TRUE(viewer.wait_for([&](auto& items) {
    viewer.subscription->pop_cues(cues);
    size_t markers = 0;
    for (auto& i : items) markers += i.packet->marker;
    return markers >= 6 && !cues.empty();
  }));
  auto aus = depacketize(viewer.items);
  ASSERT_GE(aus.size(), 4u);
  ASSERT_EQ(cues.size(), 1u);
  EXPECT_EQ(cues[0]->rtp_timestamp, aus[3].timestamp);
  EXPECT_EQ(cues[0]->version, 7u);
  EXPECT_NE(cues[0]->cue_message.find("\"rtp_timestamp\":" + std::to_string(aus[3].timestamp)), std::string::npos);
  ASSERT_TRUE(feed->latest_cue());
  EXPECT_EQ(feed->latest_cue().get(), cues[0].get());
  EXPECT_EQ(feed->stats().cues, 1u);

  // Not an object: counted, not forwarded, the latest stays.
  auto bad = std::make_shared<Cue>();
  bad->pts_ms = 200;
  bad->json = "[1,2";
  stream_->push_cue(bad);
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (feed->stats().bad_cues == 0 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(feed->stats().bad_cues, 1u);
  EXPECT_EQ(feed->latest_cue().get(), cues[0].get());
}

}  // namespace
}  // namespace anchorcast::webrtc
