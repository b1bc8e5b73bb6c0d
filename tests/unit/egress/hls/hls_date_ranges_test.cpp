// EXT-X-DATERANGE for overlays: ranges open and close with cues, survive the window
// sliding past their start, and are well-formed per RFC 8216 §4.3.2.7.
#include <gtest/gtest.h>

#include <openssl/evp.h>

#include <chrono>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "media_fixtures.hpp"
#include "relay/egress/hls/hls_packager.hpp"
#include "relay/egress/hls/overlay_date_ranges.hpp"

namespace anchorcast {
namespace {

using namespace std::chrono_literals;
using TimePoint = std::chrono::system_clock::time_point;

const TimePoint kEpoch = TimePoint(std::chrono::seconds(1'800'000'000));  // 2027-01-15T08:00:00Z

std::string cue(uint64_t version, const std::string& overlays) {
  return R"({"type":"overlays","version":)" + std::to_string(version) + R"(,"pts_ms":0,"overlays":[)" + overlays +
         "]}";
}
const std::string kCard = R"({"id":"c1","kind":"card","title":"Silk dress","price":"¥299","url":"https://shop.example/p/1"})";
const std::string kSale = R"({"id":"s1","kind":"sale","title":"Flash","price":"¥9.9","stock":500})";
const std::string kSaleLess = R"({"id":"s1","kind":"sale","title":"Flash","price":"¥9.9","stock":123})";

struct Tag {
  std::map<std::string, std::string> attrs;  // quoted values without the quotes
};

// Parses EXT-X-DATERANGE lines strictly enough to catch malformed attribute lists.
std::vector<Tag> date_ranges(const std::string& text) {
  std::vector<Tag> out;
  std::regex line_re("#EXT-X-DATERANGE:(.*)");
  std::regex attr_re(R"(^([A-Z0-9-]+)=("[^"\r\n]*"|[^",]*)(,|$))");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), line_re); it != std::sregex_iterator(); ++it) {
    std::string rest = (*it)[1];
    Tag tag;
    std::smatch m;
    while (!rest.empty()) {
      if (!std::regex_search(rest, m, attr_re)) {
        ADD_FAILURE() << "malformed attribute list at: " << rest;
        break;
      }
      std::string value = m[2];
      if (value.size() >= 2 && value.front() == '"') value = value.substr(1, value.size() - 2);
      EXPECT_FALSE(tag.attrs.contains(m[1])) << "repeated attribute " << m[1];
      tag.attrs[m[1]] = value;
      rest = m.suffix();
    }
    out.push_back(tag);
  }
  return out;
}

std::string unbase64(const std::string& b64) {
  std::string out(b64.size(), '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(b64.data()), static_cast<int>(b64.size()));
  EXPECT_GE(n, 0);
  size_t pad = b64.ends_with("==") ? 2 : b64.ends_with("=") ? 1 : 0;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

TEST(OverlayDateRanges, CueOpensOneRangePerOverlayWithBase64Payload) {
  OverlayDateRanges ranges;
  ASSERT_TRUE(ranges.apply_cue(cue(3, kCard + "," + kSale), 3, kEpoch + 1500ms).ok());
  auto tags = date_ranges(ranges.render());
  ASSERT_EQ(tags.size(), 2u);
  EXPECT_EQ(tags[0].attrs["ID"], "c1-v3");
  EXPECT_EQ(tags[0].attrs["CLASS"], "com.anchorcast.overlay");
  EXPECT_EQ(tags[0].attrs["START-DATE"], "2027-01-15T08:00:01.500Z");
  EXPECT_FALSE(tags[0].attrs.contains("END-DATE"));
  EXPECT_EQ(tags[0].attrs["X-VERSION"], "3");
  const auto card = nlohmann::json::parse(unbase64(tags[0].attrs["X-PAYLOAD"]));
  EXPECT_EQ(card["url"], "https://shop.example/p/1");
  EXPECT_EQ(card["title"], "Silk dress");
  EXPECT_EQ(tags[1].attrs["ID"], "s1-v3");
}

TEST(OverlayDateRanges, HiddenOverlayGetsEndDateAndOthersStayOpen) {
  OverlayDateRanges ranges;
  ASSERT_TRUE(ranges.apply_cue(cue(1, kCard), 1, kEpoch).ok());
  ASSERT_TRUE(ranges.apply_cue(cue(2, kCard + "," + kSale), 2, kEpoch + 1s).ok());
  ASSERT_TRUE(ranges.apply_cue(cue(3, kSale), 3, kEpoch + 2s).ok());
  auto tags = date_ranges(ranges.render());
  ASSERT_EQ(tags.size(), 2u);
  EXPECT_EQ(tags[0].attrs["ID"], "c1-v1");  // the card's range keeps the version it appeared in
  EXPECT_EQ(tags[0].attrs["START-DATE"], "2027-01-15T08:00:00.000Z");
  EXPECT_EQ(tags[0].attrs["END-DATE"], "2027-01-15T08:00:02.000Z");
  EXPECT_EQ(tags[1].attrs["ID"], "s1-v2");
  EXPECT_FALSE(tags[1].attrs.contains("END-DATE"));
}

TEST(OverlayDateRanges, ChangedContentClosesTheRangeAndOpensANewId) {
  // §4.3.2.7.1: tags with one ID must agree on every attribute, so a stock update
  // cannot rewrite X-PAYLOAD under the same ID.
  OverlayDateRanges ranges;
  ASSERT_TRUE(ranges.apply_cue(cue(1, kSale), 1, kEpoch).ok());
  ASSERT_TRUE(ranges.apply_cue(cue(2, kSaleLess), 2, kEpoch + 3s).ok());
  auto tags = date_ranges(ranges.render());
  ASSERT_EQ(tags.size(), 2u);
  EXPECT_EQ(tags[0].attrs["ID"], "s1-v1");
  EXPECT_EQ(tags[0].attrs["END-DATE"], "2027-01-15T08:00:03.000Z");
  EXPECT_EQ(tags[1].attrs["ID"], "s1-v2");
  EXPECT_EQ(tags[1].attrs["START-DATE"], "2027-01-15T08:00:03.000Z");
  EXPECT_EQ(nlohmann::json::parse(unbase64(tags[1].attrs["X-PAYLOAD"]))["stock"], 123);
}

TEST(OverlayDateRanges, UnchangedOverlayKeepsItsRangeAcrossCues) {
  OverlayDateRanges ranges;
  ASSERT_TRUE(ranges.apply_cue(cue(1, kCard), 1, kEpoch).ok());
  ASSERT_TRUE(ranges.apply_cue(cue(2, kCard + "," + kSale), 2, kEpoch + 1s).ok());
  ASSERT_TRUE(ranges.apply_cue(cue(2, kCard + "," + kSale), 2, kEpoch + 5s).ok());  // a repeat (late joiner path)
  auto tags = date_ranges(ranges.render());
  ASSERT_EQ(tags.size(), 2u);
  EXPECT_EQ(tags[0].attrs["ID"], "c1-v1");
  EXPECT_FALSE(tags[0].attrs.contains("END-DATE"));
}

TEST(OverlayDateRanges, TrimDropsOnlyRangesThatEndedBeforeTheWindow) {
  OverlayDateRanges ranges;
  ASSERT_TRUE(ranges.apply_cue(cue(1, kCard), 1, kEpoch).ok());
  ASSERT_TRUE(ranges.apply_cue(cue(2, kCard + "," + kSale), 2, kEpoch + 1s).ok());
  ASSERT_TRUE(ranges.apply_cue(cue(3, kCard), 3, kEpoch + 2s).ok());  // sale ends at +2 s
  ranges.trim(kEpoch + 2s);  // ended exactly at the window start: still listed
  EXPECT_EQ(date_ranges(ranges.render()).size(), 2u);
  ranges.trim(kEpoch + 60s);
  auto tags = date_ranges(ranges.render());
  ASSERT_EQ(tags.size(), 1u);  // the card, open since long before the window, stays
  EXPECT_EQ(tags[0].attrs["ID"], "c1-v1");
}

TEST(OverlayDateRanges, EndDateNeverPrecedesStartDate) {
  OverlayDateRanges ranges;
  ASSERT_TRUE(ranges.apply_cue(cue(1, kCard), 1, kEpoch + 5s).ok());
  ASSERT_TRUE(ranges.apply_cue(cue(2, ""), 2, kEpoch + 4s).ok());
  auto tags = date_ranges(ranges.render());
  ASSERT_EQ(tags.size(), 1u);
  EXPECT_EQ(tags[0].attrs["END-DATE"], tags[0].attrs["START-DATE"]);
}

TEST(OverlayDateRanges, MerchantIdCannotBreakTheQuotedString) {
  OverlayDateRanges ranges;
  const std::string evil = R"({"id":"a\"b\n#EXT-X-ENDLIST,c%","kind":"card","title":"t","price":"p"})";
  ASSERT_TRUE(ranges.apply_cue(cue(7, evil), 7, kEpoch).ok());
  const std::string text = ranges.render();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1);
  auto tags = date_ranges(text);
  ASSERT_EQ(tags.size(), 1u);
  EXPECT_EQ(tags[0].attrs["ID"], "a%22b%0A#EXT-X-ENDLIST,c%25-v7");
}

TEST(OverlayDateRanges, RejectsWhatIsNotACueAndKeepsItsState) {
  OverlayDateRanges ranges;
  ASSERT_TRUE(ranges.apply_cue(cue(1, kCard), 1, kEpoch).ok());
  EXPECT_FALSE(ranges.apply_cue("not json", 2, kEpoch + 1s).ok());
  EXPECT_FALSE(ranges.apply_cue(R"({"overlays":[{"title":"no id"}]})", 2, kEpoch + 1s).ok());
  EXPECT_FALSE(ranges.apply_cue(R"({"overlays":{}})", 2, kEpoch + 1s).ok());
  auto tags = date_ranges(ranges.render());
  ASSERT_EQ(tags.size(), 1u);
  EXPECT_FALSE(tags[0].attrs.contains("END-DATE"));
}

TEST(OverlayDateRanges, LargeInlineImageIsLeftOutOfThePayload) {
  OverlayDateRanges ranges;
  const std::string big = R"({"id":"c1","kind":"card","title":"t","price":"p","image":"data:image/png;base64,)" +
                          std::string(10000, 'A') + R"("})";
  ASSERT_TRUE(ranges.apply_cue(cue(1, big), 1, kEpoch).ok());
  auto tags = date_ranges(ranges.render());
  ASSERT_EQ(tags.size(), 1u);
  auto card = nlohmann::json::parse(unbase64(tags[0].attrs["X-PAYLOAD"]));
  EXPECT_FALSE(card.contains("image"));
  EXPECT_EQ(card["title"], "t");
  EXPECT_EQ(compact_cue_json(cue(1, big)).find("data:image"), std::string::npos);
  EXPECT_EQ(compact_cue_json(cue(1, kCard)), cue(1, kCard));
}

TEST(OverlayDateRanges, ClosedRangesStayBounded) {
  OverlayDateRanges ranges;
  for (uint64_t v = 1; v <= 2000; ++v)
    ASSERT_TRUE(ranges.apply_cue(cue(v, v % 2 ? kCard : ""), v, kEpoch + std::chrono::milliseconds(v)).ok());
  EXPECT_LE(ranges.size(), 257u);
}

// ---- through the packager ----

PacketPtr key_video(int64_t dts_ms, bool key) { return fixtures::tiny_video(dts_ms, key); }

MediaEvent cue_event(int64_t pts_ms, uint64_t version, const std::string& overlays) {
  return MediaEvent::of_cue(std::make_shared<const Cue>(Cue{pts_ms, version, cue(version, overlays)}));
}

void feed(HlsPackager& hls, int64_t from_ms, int64_t to_ms) {
  for (int64_t t = from_ms; t < to_ms; t += 40) hls.on_event(MediaEvent::of_packet(key_video(t, t % 1000 == 0)));
}

TEST(HlsPackagerDateRanges, StartDateUsesTheSameMappingAsProgramDateTime) {
  HlsPackager hls({.target_duration_ms = 1000, .window_segments = 3}, [] { return kEpoch; });
  hls.on_event(MediaEvent::of_tracks(std::make_shared<const TrackSet>(fixtures::load_small_flv().tracks), true));
  feed(hls, 10000, 11000);  // anchor: pts 10 s = kEpoch
  hls.on_event(cue_event(10520, 4, kCard));
  feed(hls, 11000, 12040);
  auto playlist = hls.playlist();
  ASSERT_TRUE(playlist);
  EXPECT_NE(playlist->find("#EXT-X-PROGRAM-DATE-TIME:2027-01-15T08:00:00.000Z\n#EXT-X-DATERANGE:ID=\"c1-v4\","
                           "CLASS=\"com.anchorcast.overlay\",START-DATE=\"2027-01-15T08:00:00.520Z\",X-VERSION=4,"
                           "X-PAYLOAD=\""),
            std::string::npos)
      << *playlist;
}

TEST(HlsPackagerDateRanges, OpenRangeOutlivesItsSegmentAndEndedOnesLeaveWithTheWindow) {
  HlsPackager hls({.target_duration_ms = 1000, .window_segments = 3}, [] { return kEpoch; });
  hls.on_event(MediaEvent::of_tracks(std::make_shared<const TrackSet>(fixtures::load_small_flv().tracks), true));
  feed(hls, 0, 1000);
  hls.on_event(cue_event(500, 1, kCard + "," + kSale));
  feed(hls, 1000, 2000);
  hls.on_event(cue_event(1500, 2, kCard));  // the sale ends at 1.5 s
  feed(hls, 2000, 3000);
  auto playlist = hls.playlist();
  ASSERT_TRUE(playlist);
  auto tags = date_ranges(*playlist);
  ASSERT_EQ(tags.size(), 2u) << *playlist;
  EXPECT_EQ(tags[1].attrs["END-DATE"], "2027-01-15T08:00:01.500Z");
  // Slide the window well past both starts: the card is still visible, the sale is not.
  feed(hls, 3000, 12040);
  playlist = hls.playlist();
  tags = date_ranges(*playlist);
  ASSERT_EQ(tags.size(), 1u) << *playlist;
  EXPECT_EQ(tags[0].attrs["ID"], "c1-v1");
  EXPECT_EQ(tags[0].attrs["START-DATE"], "2027-01-15T08:00:00.500Z");
  EXPECT_EQ(playlist->find("seg-0.ts"), std::string::npos);
}

TEST(HlsPackagerDateRanges, CueBeforeTheFirstSegmentIsPlacedOnceTheClockIsAnchored) {
  HlsPackager hls({.target_duration_ms = 1000, .window_segments = 3}, [] { return kEpoch; });
  hls.on_event(cue_event(0, 9, kCard));  // a new subscriber gets the newest cue
  hls.on_event(MediaEvent::of_tracks(std::make_shared<const TrackSet>(fixtures::load_small_flv().tracks), true));
  feed(hls, 0, 1040);
  auto playlist = hls.playlist();
  ASSERT_TRUE(playlist);
  auto tags = date_ranges(*playlist);
  ASSERT_EQ(tags.size(), 1u) << *playlist;
  EXPECT_EQ(tags[0].attrs["ID"], "c1-v9");
  EXPECT_EQ(tags[0].attrs["START-DATE"], "2027-01-15T08:00:00.000Z");
}

}  // namespace
}  // namespace anchorcast
