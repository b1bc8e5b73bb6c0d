#include "anchorcast/hub/stream.hpp"

#include <gtest/gtest.h>

#include "anchorcast/hub/hub.hpp"

namespace anchorcast {
namespace {

Packet video(int64_t dts_ms, bool key, size_t size = 100) {
  Packet p;
  p.kind = MediaKind::video;
  p.codec = Codec::h264;
  p.keyframe = key;
  p.time_base = kMillis;
  p.dts = p.pts = dts_ms;
  p.payload.assign(size, 0xAB);
  return p;
}

Packet audio(int64_t dts_ms) {
  Packet p;
  p.kind = MediaKind::audio;
  p.codec = Codec::aac;
  p.keyframe = true;
  p.dts = p.pts = dts_ms;
  p.payload.assign(10, 0x11);
  return p;
}

TrackSet av_tracks() {
  TrackSet t;
  t.video = VideoTrack{Codec::h264, 1280, 720, 30, {1, 2, 3}};
  t.audio = AudioTrack{Codec::aac, 44100, 2, {0x12, 0x10}};
  return t;
}

std::vector<MediaEvent> drain(Subscription& sub) {
  std::vector<MediaEvent> out;
  sub.pop_all(out);
  return out;
}

std::vector<int64_t> packet_dts(const std::vector<MediaEvent>& events) {
  std::vector<int64_t> out;
  for (const auto& e : events)
    if (e.type == MediaEvent::Type::packet) out.push_back(e.packet->dts);
  return out;
}

TEST(Stream, SecondPublisherIsRefusedAndFirstKeepsPublishing) {
  auto stream = std::make_shared<Stream>("demo", "key");
  auto first = stream->begin_publish("rtmp");
  ASSERT_TRUE(first.ok());
  auto second = stream->begin_publish("rtmp");
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().message.find("already has a live publisher"), std::string::npos);
  EXPECT_TRUE(stream->live());
  (*first)->set_tracks(av_tracks());
  (*first)->push(video(0, true));
  EXPECT_EQ(stream->snapshot().packets_in, 1u);
}

TEST(Stream, NewSubscriberStartsAtLatestKeyframeWithTracks) {
  auto stream = std::make_shared<Stream>("demo", "key");
  auto pub = std::move(stream->begin_publish("rtmp").value());
  pub->set_tracks(av_tracks());
  pub->push(video(0, true));
  pub->push(video(33, false));
  pub->push(video(66, true));
  pub->push(audio(70));
  pub->push(video(100, false));

  auto sub = stream->subscribe({});
  auto events = drain(*sub);
  ASSERT_GE(events.size(), 1u);
  EXPECT_EQ(events[0].type, MediaEvent::Type::tracks);
  EXPECT_TRUE(events[0].new_session);
  EXPECT_EQ(packet_dts(events), (std::vector<int64_t>{66, 70, 100}));
  EXPECT_TRUE(events[1].packet->keyframe);
}

TEST(Stream, FanOutSharesPayloadWithoutCopying) {
  auto stream = std::make_shared<Stream>("demo", "key");
  auto pub = std::move(stream->begin_publish("rtmp").value());
  pub->set_tracks(av_tracks());
  auto a = stream->subscribe({});
  auto b = stream->subscribe({});
  pub->push(video(0, true));
  auto ea = drain(*a), eb = drain(*b);
  ASSERT_EQ(ea.size(), 2u);
  ASSERT_EQ(eb.size(), 2u);
  EXPECT_EQ(ea[1].packet.get(), eb[1].packet.get());
  EXPECT_EQ(ea[1].packet->payload.data(), eb[1].packet->payload.data());
}

TEST(Stream, NotifyFiresOncePerEmptyToNonEmptyTransition) {
  auto stream = std::make_shared<Stream>("demo", "key");
  auto pub = std::move(stream->begin_publish("rtmp").value());
  pub->set_tracks(av_tracks());
  int wakes = 0;
  SubscribeOptions opts;
  opts.notify = [&] { ++wakes; };
  auto sub = stream->subscribe(opts);
  pub->push(video(0, true));
  pub->push(video(33, false));
  EXPECT_EQ(wakes, 1);
  drain(*sub);
  pub->push(video(66, false));
  EXPECT_EQ(wakes, 2);
}

TEST(Stream, SlowViewerSkipsToNextKeyframeAndOthersGetEverything) {
  auto stream = std::make_shared<Stream>("demo", "key");
  auto pub = std::move(stream->begin_publish("rtmp").value());
  pub->set_tracks(av_tracks());
  SubscribeOptions slow_opts;
  slow_opts.queue_capacity = 8;
  auto slow = stream->subscribe(slow_opts);
  auto fast = stream->subscribe({});
  std::vector<MediaEvent> fast_events;
  pub->push(video(0, true));
  for (int i = 1; i < 20; ++i) pub->push(video(i * 33, false));
  pub->push(video(20 * 33, true));
  pub->push(video(21 * 33, false));
  fast->pop_all(fast_events);
  EXPECT_EQ(packet_dts(fast_events).size(), 22u);

  auto slow_events = drain(*slow);
  auto dts = packet_dts(slow_events);
  ASSERT_EQ(dts.size(), 2u);  // everything before the second keyframe was skipped
  EXPECT_EQ(dts[0], 20 * 33);
  EXPECT_GT(slow->dropped_packets(), 0u);
  EXPECT_EQ(stream->snapshot().packets_dropped, slow->dropped_packets());
  // The track announcement survives the overflow.
  EXPECT_EQ(slow_events[0].type, MediaEvent::Type::tracks);
}

TEST(Stream, QueueGrowsPastItsFirstSlotsAndKeepsOrderUpToCapacity) {
  auto stream = std::make_shared<Stream>("demo", "key");
  auto pub = std::move(stream->begin_publish("rtmp").value());
  pub->set_tracks(av_tracks());
  SubscribeOptions opts;
  opts.queue_capacity = 100;
  auto sub = stream->subscribe(opts);
  pub->push(video(0, true));
  std::vector<MediaEvent> first;
  sub->pop_all(first);  // the ring's head is now mid-buffer: growth must unwrap it
  std::vector<int64_t> want;
  for (int i = 1; i < 99; ++i) {
    pub->push(video(i, false));
    want.push_back(i);
  }
  EXPECT_EQ(packet_dts(drain(*sub)), want);
  EXPECT_EQ(sub->dropped_packets(), 0u);
}

TEST(Stream, PublisherReconnectContinuesTheTimelineForConnectedViewers) {
  auto stream = std::make_shared<Stream>("demo", "key");
  auto sub = stream->subscribe({});
  {
    auto pub = std::move(stream->begin_publish("rtmp").value());
    pub->set_tracks(av_tracks());
    pub->push(video(0, true));
    pub->push(video(1000, false));
  }
  EXPECT_FALSE(stream->live());
  {
    auto pub = std::move(stream->begin_publish("rtmp").value());
    pub->set_tracks(av_tracks());
    pub->push(video(0, true));  // the new session starts at 0 again
    pub->push(video(33, false));
  }
  auto events = drain(*sub);
  std::vector<MediaEvent::Type> types;
  for (auto& e : events) types.push_back(e.type);
  using T = MediaEvent::Type;
  EXPECT_EQ(types, (std::vector<T>{T::tracks, T::packet, T::packet, T::publisher_gone, T::tracks, T::packet,
                                   T::packet, T::publisher_gone}));
  EXPECT_TRUE(events[4].new_session);
  EXPECT_EQ(packet_dts(events), (std::vector<int64_t>{0, 1000, 1040, 1073}));
}

TEST(Stream, RescalesTheSessionOffsetIntoEachPacketsTimeBase) {
  auto stream = std::make_shared<Stream>("demo", "key");
  auto sub = stream->subscribe({});
  {
    auto pub = std::move(stream->begin_publish("rtmp").value());
    pub->set_tracks(av_tracks());
    pub->push(video(2000, true));
  }
  auto pub = std::move(stream->begin_publish("srt").value());
  pub->set_tracks(av_tracks());
  Packet p = video(0, true);
  p.time_base = k90kHz;
  p.dts = p.pts = 900000;  // 10 s in 90 kHz
  pub->push(std::move(p));
  auto dts = packet_dts(drain(*sub));
  ASSERT_EQ(dts.size(), 2u);
  EXPECT_EQ(dts[1], (2000 + 40) * 90);
}

TEST(Stream, UnsubscribeCountsViewersPerProtocol) {
  auto stream = std::make_shared<Stream>("demo", "key");
  SubscribeOptions opts;
  opts.protocol = ViewerProtocol::flv;
  auto a = stream->subscribe(opts);
  auto b = stream->subscribe(opts);
  EXPECT_EQ(stream->snapshot().viewers[static_cast<int>(ViewerProtocol::flv)], 2);
  a.reset();
  EXPECT_EQ(stream->snapshot().viewers[static_cast<int>(ViewerProtocol::flv)], 1);
}

TEST(Stream, CountedViewersShowInTheSnapshotWithoutAQueue) {
  auto stream = std::make_shared<Stream>("demo", "key");
  auto pub = stream->begin_publish("rtmp").value();
  pub->set_tracks(av_tracks());
  SubscribeOptions opts;
  opts.protocol = ViewerProtocol::internal;
  auto feed = stream->subscribe(opts);  // the one subscriber serving the counted viewers
  auto a = stream->count_viewer(ViewerProtocol::webrtc);
  auto b = stream->count_viewer(ViewerProtocol::webrtc);
  auto snap = stream->snapshot();
  EXPECT_EQ(snap.viewers[static_cast<int>(ViewerProtocol::webrtc)], 2);
  EXPECT_EQ(snap.viewers[static_cast<int>(ViewerProtocol::internal)], 1);
  pub->push(video(0, true));
  EXPECT_EQ(packet_dts(drain(*feed)).size(), 1u);  // media reaches subscribers only
  a.reset();
  EXPECT_EQ(stream->snapshot().viewers[static_cast<int>(ViewerProtocol::webrtc)], 1);
  b.reset();
  EXPECT_EQ(stream->snapshot().viewers[static_cast<int>(ViewerProtocol::webrtc)], 0);
}

TEST(Stream, CloseEndsViewersAndRefusesPublishers) {
  auto stream = std::make_shared<Stream>("demo", "key");
  auto sub = stream->subscribe({});
  stream->close();
  auto events = drain(*sub);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, MediaEvent::Type::stream_closed);
  EXPECT_FALSE(stream->begin_publish("rtmp").ok());
}

TEST(Hub, FindsStreamsByIdAndKeyAndRefusesDuplicates) {
  Hub hub;
  ASSERT_TRUE(hub.add("a", "key-a").ok());
  ASSERT_TRUE(hub.add("b", "key-b").ok());
  EXPECT_FALSE(hub.add("a", "other").ok());
  EXPECT_FALSE(hub.add("c", "key-a").ok());
  EXPECT_EQ(hub.find_by_publish_key("key-b")->id(), "b");
  EXPECT_EQ(hub.find_by_publish_key("key-"), nullptr);
  EXPECT_EQ(hub.find_by_publish_key(""), nullptr);
  EXPECT_EQ(hub.find("a")->id(), "a");
  EXPECT_TRUE(hub.remove("a"));
  EXPECT_EQ(hub.find("a"), nullptr);
  EXPECT_FALSE(hub.remove("a"));
}

}  // namespace
}  // namespace anchorcast
