#include <gtest/gtest.h>

#include "anchorcast/hub/hub.hpp"

namespace anchorcast {
namespace {

TEST(Renditions, ParseAcceptsMainSourceAndEmpty) {
  EXPECT_EQ(parse_rendition(""), Rendition::main);
  EXPECT_EQ(parse_rendition("main"), Rendition::main);
  EXPECT_EQ(parse_rendition("source"), Rendition::source);
  EXPECT_FALSE(parse_rendition("Source"));
  EXPECT_FALSE(parse_rendition("720p"));
}

TEST(Renditions, CompositedStreamHasASeparateMain) {
  Hub hub;
  ASSERT_TRUE(hub.add("shop", "shop-key", /*composited=*/true).ok());
  auto source = hub.find("shop");
  auto main = hub.find("shop", Rendition::main);
  ASSERT_TRUE(source && main);
  EXPECT_NE(source, main);
  EXPECT_EQ(main, hub.composited("shop"));
  EXPECT_EQ(hub.find("shop", Rendition::source), source);
  EXPECT_EQ(main->id(), "shop");
  // Only the anchor's key opens the source; the main rendition matches no key at all.
  EXPECT_EQ(hub.find_by_publish_key("shop-key"), source);
  EXPECT_EQ(hub.find_by_publish_key(""), nullptr);
  EXPECT_FALSE(main->publish_key_matches(""));
}

TEST(Renditions, PlainStreamServesItsSourceForBoth) {
  Hub hub;
  ASSERT_TRUE(hub.add("plain", "plain-key").ok());
  EXPECT_EQ(hub.find("plain", Rendition::main), hub.find("plain"));
  EXPECT_EQ(hub.composited("plain"), nullptr);
  EXPECT_EQ(hub.find("nope", Rendition::main), nullptr);
}

TEST(Renditions, SnapshotsCountViewersOfBothRenditions) {
  Hub hub;
  ASSERT_TRUE(hub.add("shop", "shop-key", true).ok());
  SubscribeOptions flv;
  flv.protocol = ViewerProtocol::flv;
  auto on_main = hub.find("shop", Rendition::main)->subscribe(flv);
  auto on_source = hub.find("shop", Rendition::source)->subscribe(flv);
  auto snaps = hub.snapshots();
  ASSERT_EQ(snaps.size(), 1u);
  EXPECT_EQ(snaps[0].viewers[static_cast<int>(ViewerProtocol::flv)], 2);
}

TEST(Renditions, RemovingAStreamClosesBothRenditions) {
  Hub hub;
  ASSERT_TRUE(hub.add("shop", "shop-key", true).ok());
  auto main = hub.composited("shop");
  auto sub = main->subscribe({});
  ASSERT_TRUE(hub.remove("shop"));
  std::vector<MediaEvent> events;
  sub->pop_all(events);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().type, MediaEvent::Type::stream_closed);
  EXPECT_FALSE(main->begin_publish("compositor").ok());
}

TEST(StreamSnapshot, FlagsASourceWithBFramesUntilTheNextSession) {
  auto stream = std::make_shared<Stream>("s", "k");
  {
    auto pub = std::move(stream->begin_publish("rtmp").value());
    Packet p;
    p.kind = MediaKind::video;
    p.keyframe = true;
    p.dts = 0;
    p.pts = 0;
    pub->push(Packet(p));
    EXPECT_FALSE(stream->snapshot().b_frames);
    p.keyframe = false;
    p.dts = 33;
    p.pts = 100;  // reordered
    pub->push(std::move(p));
    EXPECT_TRUE(stream->snapshot().b_frames);
  }
  EXPECT_FALSE(stream->snapshot().b_frames);  // not live
  auto again = std::move(stream->begin_publish("rtmp").value());
  EXPECT_FALSE(stream->snapshot().b_frames);
}

}  // namespace
}  // namespace anchorcast
