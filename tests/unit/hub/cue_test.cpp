#include <gtest/gtest.h>

#include "anchorcast/hub/hub.hpp"

namespace anchorcast {
namespace {

CuePtr cue(uint64_t version, int64_t pts_ms) {
  return std::make_shared<Cue>(Cue{pts_ms, version, "{\"v\":" + std::to_string(version) + "}"});
}

Packet frame(int64_t ms, bool key) {
  Packet p;
  p.kind = MediaKind::video;
  p.keyframe = key;
  p.dts = p.pts = ms;
  p.payload.assign(10, 1);
  return p;
}

std::vector<MediaEvent> drain(Subscription& s) {
  std::vector<MediaEvent> out;
  s.pop_all(out);
  return out;
}

TEST(Cues, ReachSubscribersInOrderWithTheMedia) {
  auto stream = std::make_shared<Stream>("s", "k");
  auto pub = std::move(stream->begin_publish("rtmp").value());
  TrackSet t;
  t.video = VideoTrack{};
  pub->set_tracks(t);
  auto sub = stream->subscribe({});
  drain(*sub);
  pub->push(frame(0, true));
  stream->push_cue(cue(1, 0));
  pub->push(frame(33, false));
  auto events = drain(*sub);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].type, MediaEvent::Type::packet);
  EXPECT_EQ(events[1].type, MediaEvent::Type::cue);
  EXPECT_EQ(events[1].cue->version, 1u);
  EXPECT_EQ(events[2].type, MediaEvent::Type::packet);
}

TEST(Cues, ALateSubscriberGetsTheLatestCueAfterTheGop) {
  auto stream = std::make_shared<Stream>("s", "k");
  stream->push_cue(cue(1, 0));  // before any publisher: kept
  auto pub = std::move(stream->begin_publish("rtmp").value());
  TrackSet t;
  t.video = VideoTrack{};
  pub->set_tracks(t);
  pub->push(frame(0, true));
  stream->push_cue(cue(2, 10));
  auto late = stream->subscribe({});
  auto events = drain(*late);
  ASSERT_EQ(events.size(), 3u);  // tracks, keyframe, the newest cue only
  EXPECT_EQ(events[0].type, MediaEvent::Type::tracks);
  EXPECT_EQ(events[1].type, MediaEvent::Type::packet);
  EXPECT_EQ(events[2].type, MediaEvent::Type::cue);
  EXPECT_EQ(events[2].cue->version, 2u);
  EXPECT_EQ(stream->latest_cue()->version, 2u);
}

TEST(Cues, ASlowViewerKeepsOnlyTheNewestCueWhenItsQueueOverflows) {
  auto stream = std::make_shared<Stream>("s", "k");
  auto pub = std::move(stream->begin_publish("rtmp").value());
  TrackSet t;
  t.video = VideoTrack{};
  pub->set_tracks(t);
  SubscribeOptions small;
  small.queue_capacity = 8;
  auto sub = stream->subscribe(small);
  for (int i = 0; i < 3; ++i) stream->push_cue(cue(static_cast<uint64_t>(i + 1), i));
  for (int i = 0; i < 10; ++i) pub->push(frame(i * 33, i == 0));  // overflows
  auto events = drain(*sub);
  int cues = 0;
  for (const auto& e : events)
    if (e.type == MediaEvent::Type::cue) {
      ++cues;
      EXPECT_EQ(e.cue->version, 3u);
    }
  EXPECT_EQ(cues, 1);
  EXPECT_GT(sub->dropped_packets(), 0u);
}

TEST(Cues, AClosedStreamTakesNoCue) {
  auto stream = std::make_shared<Stream>("s", "k");
  stream->close();
  stream->push_cue(cue(1, 0));
  EXPECT_EQ(stream->latest_cue(), nullptr);
}

}  // namespace
}  // namespace anchorcast
