// Overlay cues in HTTP-FLV: an onCuePoint script tag (type 18) at the cue's pts, read back
// with our FLV and AMF0 parsers; bytes shared by every viewer.
#include <gtest/gtest.h>

#include "media_fixtures.hpp"
#include "relay/egress/flv/flv_muxer.hpp"
#include "relay/protocol/flv/cue_point.hpp"
#include "relay/protocol/flv/flv_header.hpp"
#include "relay/protocol/flv/flv_tag.hpp"
#include "relay/protocol/rtmp/amf0.hpp"

namespace anchorcast {
namespace {

const std::string kCueJson =
    R"({"type":"overlays","version":17,"pts_ms":123456,"overlays":[{"id":"c1","kind":"card","title":"真丝连衣裙","price":"¥299","url":"https://shop.example/p/1"}]})";

CuePtr make_cue(int64_t pts_ms, uint64_t version, std::string json = kCueJson) {
  return std::make_shared<const Cue>(Cue{pts_ms, version, std::move(json)});
}

struct ParsedTag {
  flv::TagHeader header;
  std::vector<uint8_t> body;
};

std::vector<ParsedTag> parse_flv(const FlvBatch& batch) {
  std::vector<uint8_t> bytes;
  for (auto span : batch.spans()) bytes.insert(bytes.end(), span.begin(), span.end());
  std::vector<ParsedTag> tags;
  EXPECT_TRUE(flv::parse_file_header(bytes).ok());
  std::span<const uint8_t> rest(bytes);
  rest = rest.subspan(flv::kFileHeaderWithTagSize0);
  while (!rest.empty()) {
    auto tag = flv::parse_tag(rest);
    EXPECT_TRUE(tag.ok()) << tag.error().message;
    if (!tag) break;
    tags.push_back({tag->header, std::vector<uint8_t>(tag->body.begin(), tag->body.end())});
    rest = rest.subspan(tag->size());
  }
  return tags;
}

struct CuePointSeen {
  std::string name, type, json;
  double time = -1, version = -1;
};

std::optional<CuePointSeen> read_cue_point(std::span<const uint8_t> body) {
  auto amf = rtmp::decode_amf0(body);
  if (!amf || amf->size() != 2 || (*amf)[0].string != "onCuePoint") return std::nullopt;
  const auto& point = (*amf)[1];
  const auto* params = point.get("parameters");
  if (!params) return std::nullopt;
  CuePointSeen seen;
  seen.name = std::string(point.get_string("name").value_or(""));
  seen.type = std::string(point.get_string("type").value_or(""));
  seen.time = point.get_number("time").value_or(-1);
  seen.json = std::string(params->get_string("json").value_or(""));
  seen.version = params->get_number("version").value_or(-1);
  return seen;
}

std::vector<ParsedTag> script_tags(const std::vector<ParsedTag>& tags) {
  std::vector<ParsedTag> out;
  for (const auto& t : tags)
    if (t.header.type == flv::TagType::script && read_cue_point(t.body)) out.push_back(t);
  return out;
}

TEST(FlvCuePoint, BodyIsOnCuePointWithTheCueJsonInParameters) {
  auto body = flv::serialize_overlay_cue_point(123456, 17, kCueJson);
  auto seen = read_cue_point(body);
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen->name, "overlay");
  EXPECT_EQ(seen->type, "event");
  EXPECT_DOUBLE_EQ(seen->time, 123.456);
  EXPECT_EQ(seen->json, kCueJson);
  EXPECT_EQ(seen->version, 17);
}

TEST(FlvCuePoint, JsonOver64KiBBecomesALongString) {
  std::string big = R"({"overlays":[],"pad":")" + std::string(70000, 'x') + R"("})";
  auto seen = read_cue_point(flv::serialize_overlay_cue_point(0, 1, big));
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen->json, big);
}

TEST(FlvMuxerCue, LiveCueIsAScriptTagAtItsPts) {
  const auto flv = fixtures::load_small_flv();
  FlvMuxer muxer;
  FlvBatch batch;
  muxer.on_event(MediaEvent::of_tracks(std::make_shared<const TrackSet>(flv.tracks), true), batch);
  for (size_t i = 0; i < 10; ++i) muxer.on_event(MediaEvent::of_packet(flv.packets[i]), batch);
  const int64_t pts = flv.packets[9]->pts_in(kMillis) + 7;
  muxer.on_event(MediaEvent::of_cue(make_cue(pts, 17)), batch);
  muxer.on_event(MediaEvent::of_packet(flv.packets[10]), batch);
  auto tags = parse_flv(batch);
  ASSERT_EQ(tags.size(), 3u + 11u + 1u);
  const auto& cue_tag = tags[3 + 10];
  ASSERT_EQ(cue_tag.header.type, flv::TagType::script);
  EXPECT_EQ(cue_tag.header.timestamp_ms, pts);
  auto seen = read_cue_point(cue_tag.body);
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen->json, kCueJson);
}

TEST(FlvMuxerCue, LateJoinerGetsTheCueRightAfterTheFirstFrame) {
  // The hub's order for a new subscriber: tracks, GOP cache, newest cue. A cue that
  // arrives before any frame (stream not live yet) waits for the first one.
  const auto flv = fixtures::load_small_flv();
  FlvMuxer muxer;
  FlvBatch batch;
  muxer.on_event(MediaEvent::of_cue(make_cue(40, 3)), batch);
  EXPECT_TRUE(batch.empty());  // nothing before the FLV header
  muxer.on_event(MediaEvent::of_tracks(std::make_shared<const TrackSet>(flv.tracks), true), batch);
  muxer.on_event(MediaEvent::of_packet(flv.packets[0]), batch);
  muxer.on_event(MediaEvent::of_packet(flv.packets[1]), batch);
  auto tags = parse_flv(batch);
  ASSERT_GE(tags.size(), 5u);
  EXPECT_EQ(tags[0].header.type, flv::TagType::script);  // onMetaData
  EXPECT_NE(tags[3].header.type, flv::TagType::script);  // the first frame
  ASSERT_EQ(tags[4].header.type, flv::TagType::script);  // then the state
  EXPECT_EQ(tags[4].header.timestamp_ms, 40);
  EXPECT_EQ(script_tags(tags).size(), 1u);
}

TEST(FlvMuxerCue, OnlyTheNewestWaitingCueIsWritten) {
  const auto flv = fixtures::load_small_flv();
  FlvMuxer muxer;
  FlvBatch batch;
  muxer.on_event(MediaEvent::of_tracks(std::make_shared<const TrackSet>(flv.tracks), true), batch);
  muxer.on_event(MediaEvent::of_cue(make_cue(10, 1, R"({"overlays":[],"v":1})")), batch);
  muxer.on_event(MediaEvent::of_cue(make_cue(20, 2, R"({"overlays":[],"v":2})")), batch);
  muxer.on_event(MediaEvent::of_packet(flv.packets[0]), batch);
  auto cues = script_tags(parse_flv(batch));
  ASSERT_EQ(cues.size(), 1u);
  EXPECT_EQ(read_cue_point(cues[0].body)->version, 2);
}

TEST(FlvMuxerCue, ViewersShareTheCueBytes) {
  const auto flv = fixtures::load_small_flv();
  auto cue = make_cue(100, 5);
  FlvMuxer a, b;
  FlvBatch batch_a, batch_b;
  for (auto* m : {&a, &b}) {
    FlvBatch& batch = m == &a ? batch_a : batch_b;
    m->on_event(MediaEvent::of_tracks(std::make_shared<const TrackSet>(flv.tracks), true), batch);
    m->on_event(MediaEvent::of_packet(flv.packets[0]), batch);
    batch.clear();
    m->on_event(MediaEvent::of_cue(cue), batch);
  }
  // Each batch: tag header, then the shared body, then PreviousTagSize.
  ASSERT_EQ(batch_a.spans().size(), 3u);
  ASSERT_EQ(batch_b.spans().size(), 3u);
  EXPECT_EQ(batch_a.spans()[1].data(), batch_b.spans()[1].data());
  EXPECT_EQ(batch_a.spans()[1].size(), flv::serialize_overlay_cue_point(100, 5, kCueJson).size());
}

}  // namespace
}  // namespace anchorcast
