// Enhanced RTMP through a real RtmpServer on a loop and socket (TestClient): the connect
// reply's fourCcList, and an hvc1 publisher relayed to an RTMP player as E-RTMP tags.
#include <gtest/gtest.h>

#include "anchorcast/core/event_loop.hpp"
#include "anchorcast/core/metrics.hpp"
#include "anchorcast/hub/hub.hpp"
#include "anchorcast/ingest/rtmp_server.hpp"
#include "hevc_record.hpp"
#include "relay/protocol/flv/ex_video_tag.hpp"
#include "rtmp_test_client.hpp"
#include "wait_until.hpp"

namespace anchorcast {
namespace {

using fixtures::kHvcc240p;

using rtmp::Amf0Value;
using rtmp::Message;
using rtmp::test::TestClient;
using Bytes = std::vector<uint8_t>;

Message video(uint32_t ts, std::span<const uint8_t> prefix, std::span<const uint8_t> data) {
  Message m;
  m.type_id = rtmp::msg::kVideo;
  m.stream_id = 1;
  m.csid = 6;
  m.timestamp = ts;
  m.payload.assign(prefix.begin(), prefix.end());
  m.payload.insert(m.payload.end(), data.begin(), data.end());
  return m;
}

// One slice NAL unit of `size` bytes behind a 4-byte length: IDR_N_LP (type 20) or
// TRAIL_R (type 1) by its header.
Bytes slice(bool idr, size_t size) {
  Bytes out(4 + size, 0x5A);
  out[0] = 0;
  out[1] = 0;
  out[2] = static_cast<uint8_t>(size >> 8);
  out[3] = static_cast<uint8_t>(size);
  out[4] = idr ? 0x28 : 0x02;
  out[5] = 0x01;
  return out;
}

Message coded_frames(uint32_t ts, bool key, int32_t cts, size_t size) {
  return video(ts, flv::serialize_hevc_coded_frames_prefix(key, cts).bytes(), slice(key, size));
}

class RtmpServerErtmpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(hub.add("demo", "demo-key").ok());
    server = std::make_unique<RtmpServer>(loop, hub, metrics);
    Status s = server->listen(ListenAddress{"127.0.0.1", 0});
    ASSERT_TRUE(s.ok()) << s.error().message;
    port = server->port();
    loop.start();
  }
  void TearDown() override {
    loop.stop();
    server.reset();
  }

  // connect with `object` as the command object; the _result's properties object.
  std::optional<Amf0Value> connect_properties(TestClient& c, Amf0Value object) {
    if (!c.connect_tcp(port) || !c.handshake()) return std::nullopt;
    c.send(rtmp::make_command(0, "connect", 1, object));
    auto reply = c.wait_command("_result");
    if (!reply) return std::nullopt;
    return reply->object;
  }

  Hub hub;
  Metrics metrics;
  EventLoop loop;
  std::unique_ptr<RtmpServer> server;
  uint16_t port = 0;
};

Amf0Value connect_object(std::optional<std::vector<std::string>> four_cc_list) {
  Amf0Value o = Amf0Value::make_object({{"app", Amf0Value::make_string("live")},
                                        {"tcUrl", Amf0Value::make_string("rtmp://127.0.0.1/live")}});
  if (four_cc_list) {
    std::vector<Amf0Value> list;
    for (const auto& f : *four_cc_list) list.push_back(Amf0Value::make_string(f));
    o.set("fourCcList", Amf0Value::make_strict_array(std::move(list)));
  }
  return o;
}

std::vector<std::string> strings(const Amf0Value* list) {
  std::vector<std::string> out;
  if (!list || list->type != rtmp::Amf0Type::strict_array) return {"(not a strict array)"};
  for (const auto& e : list->elements) out.push_back(e.string);
  return out;
}

TEST_F(RtmpServerErtmpTest, ConnectResultListsTheFourCcsTheClientOfferedThatWeTake) {
  const std::vector<std::pair<std::optional<std::vector<std::string>>, std::vector<std::string>>> cases = {
      {std::vector<std::string>{"av01", "vp09", "hvc1"}, {"hvc1"}},  // OBS 29.1's offer
      {std::vector<std::string>{"av01"}, {}},                         // nothing in common
      {std::vector<std::string>{"*"}, {"hvc1"}},                      // v2: any codec
      {std::nullopt, {"hvc1"}},                                       // a legacy client: still say so
  };
  for (const auto& [offered, expected] : cases) {
    SCOPED_TRACE(offered ? std::to_string(offered->size()) + " offered" : "none offered");
    TestClient c;
    auto props = connect_properties(c, connect_object(offered));
    ASSERT_TRUE(props);
    EXPECT_EQ(props->get_string("fmsVer"), "FMS/3,0,1,123");
    EXPECT_EQ(strings(props->get("fourCcList")), expected);
  }
}

TEST_F(RtmpServerErtmpTest, HevcPublisherReachesAnRtmpPlayerAsEnhancedTags) {
  TestClient pub;
  ASSERT_TRUE(connect_properties(pub, connect_object(std::vector<std::string>{"hvc1"})));
  ASSERT_TRUE(pub.create_stream());
  ASSERT_EQ(pub.publish("demo-key"), "NetStream.Publish.Start");
  pub.set_chunk_size(4096);
  const Message start = video(0, flv::hevc_sequence_start_prefix(), kHvcc240p);
  const Message key = coded_frames(1000, true, 0, 6000);  // CodedFramesX, over two chunks
  const Message b_frame = coded_frames(1033, false, 67, 300);
  pub.send(start);
  pub.send(key);
  pub.send(b_frame);
  EXPECT_TRUE(test::wait_until([&] { return hub.find("demo")->snapshot().packets_in == 2; }));
  auto snap = hub.find("demo")->snapshot();
  ASSERT_TRUE(snap.tracks && snap.tracks->video);
  EXPECT_EQ(snap.tracks->video->codec, Codec::hevc);
  EXPECT_EQ(snap.tracks->video->width, 320);

  TestClient player;
  ASSERT_TRUE(player.connect_rtmp(port));
  ASSERT_TRUE(player.create_stream());
  ASSERT_EQ(player.play("demo"), "NetStream.Play.Start");
  auto is_video = [](const Message& m) { return m.type_id == rtmp::msg::kVideo; };
  auto seq = player.wait_for(is_video);
  ASSERT_TRUE(seq);
  EXPECT_EQ(seq->payload, start.payload);  // SequenceStart, hvc1, the record as published
  auto k = player.wait_for(is_video);
  ASSERT_TRUE(k);
  EXPECT_EQ(k->payload, key.payload);  // the publisher's form: CodedFramesX when cts is 0
  EXPECT_EQ(k->timestamp, 1000u);
  auto b = player.wait_for(is_video);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->payload, b_frame.payload);  // CodedFrames with its composition time
  EXPECT_EQ(b->timestamp, 1033u);

  bool metadata = false;
  for (const auto& m : player.seen) {
    if (m.type_id != rtmp::msg::kDataAmf0) continue;
    auto d = rtmp::parse_data(m);
    ASSERT_TRUE(d.ok());
    if (d->name != "onMetaData") continue;
    metadata = true;
    // enhanced-rtmp v1 "Enhancing onMetaData": videocodecid is the FourCC as a number.
    EXPECT_EQ(d->values[0].get_number("videocodecid"), static_cast<double>(flv::kFourCcHevc));
    EXPECT_EQ(d->values[0].get_number("height"), 240.0);
  }
  EXPECT_TRUE(metadata);
}

}  // namespace
}  // namespace anchorcast
