// The overlay data channel's JSON: the hub's cue stamped with an RTP timestamp.
#include "relay/egress/webrtc/feed/feed_cue.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace anchorcast::webrtc {
namespace {

using json = nlohmann::json;

Cue card_cue() {
  Cue c;
  c.pts_ms = 4200;
  c.version = 3;
  c.json =
      R"({"type":"overlays","version":3,"pts_ms":4200,)"
      R"("overlays":[{"id":"c1","kind":"card","title":"茶杯 <b>","url":"https://shop.example/p/1"}]})";
  return c;
}

TEST(FeedCue, CueMessageCarriesTheRtpTimestampAndEveryOverlay) {
  auto stamped = stamp_cue(card_cue(), 0xFFFFFF00u);
  ASSERT_TRUE(stamped.ok()) << stamped.error().message;
  json m = json::parse(stamped->cue_message);
  EXPECT_EQ(m["type"], "cue");
  EXPECT_EQ(m["version"], 3);
  EXPECT_EQ(m["pts_ms"], 4200);
  EXPECT_EQ(m["rtp_timestamp"], 0xFFFFFF00u);  // unsigned 32-bit, not wrapped negative
  ASSERT_EQ(m["overlays"].size(), 1u);
  EXPECT_EQ(m["overlays"][0]["title"], "茶杯 <b>");
  EXPECT_EQ(m["overlays"][0]["url"], "https://shop.example/p/1");
  // "type" comes first, so a reader can dispatch without parsing the rest.
  EXPECT_EQ(stamped->cue_message.rfind(R"({"type":"cue")", 0), 0u);
}

TEST(FeedCue, SnapshotHasTheSameFieldsAndItsOwnType) {
  auto stamped = stamp_cue(card_cue(), 1234);
  ASSERT_TRUE(stamped.ok());
  json cue = json::parse(stamped->cue_message);
  json snapshot = json::parse(stamped->snapshot_message);
  EXPECT_EQ(snapshot["type"], "snapshot");
  snapshot["type"] = "cue";
  EXPECT_EQ(snapshot, cue);
  json empty = json::parse(empty_snapshot_message());
  EXPECT_EQ(empty["type"], "snapshot");
  EXPECT_TRUE(empty["overlays"].empty());
}

TEST(FeedCue, CueFieldsWinOverTheJsonsOwnAndAMissingOverlayListIsEmpty) {
  Cue c;
  c.pts_ms = 10;
  c.version = 2;
  c.json = R"({"type":"overlays","version":99,"pts_ms":-1,"rtp_timestamp":"x"})";
  auto stamped = stamp_cue(c, 5);
  ASSERT_TRUE(stamped.ok());
  json m = json::parse(stamped->cue_message);
  EXPECT_EQ(m["version"], 2);
  EXPECT_EQ(m["pts_ms"], 10);
  EXPECT_EQ(m["rtp_timestamp"], 5);
  EXPECT_TRUE(m["overlays"].is_array());
}

TEST(FeedCue, RefusesJsonThatIsNotAnObject) {
  for (const char* text : {"", "[1]", "\"x\"", "{\"a\":", "null"}) {
    Cue c;
    c.json = text;
    EXPECT_FALSE(stamp_cue(c, 0).ok()) << text;
  }
}

}  // namespace
}  // namespace anchorcast::webrtc
