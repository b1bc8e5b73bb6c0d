// RtmpServer end to end on a real loop and socket, driven by TestClient (our own client
// handshake + chunk writer).
#include "anchorcast/ingest/rtmp_server.hpp"

#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "anchorcast/core/event_loop.hpp"
#include "anchorcast/core/metrics.hpp"
#include "anchorcast/hub/hub.hpp"
#include "relay/protocol/h264/avc_decoder_config.hpp"
#include "rtmp_test_client.hpp"
#include "wait_until.hpp"

namespace anchorcast {
namespace {

using rtmp::Amf0Value;
using rtmp::Message;
using rtmp::test::TestClient;

// SPS/PPS of a 320x240 25 fps x264 stream (ffmpeg -f lavfi -i testsrc2=size=320x240:rate=25
// -frames:v 1 -c:v libx264 -preset ultrafast -f h264).
const std::vector<uint8_t> kSps = {0x67, 0x42, 0xc0, 0x0d, 0xdc, 0x14, 0x1f, 0xb0, 0x11, 0x00, 0x00, 0x03,
                                   0x00, 0x01, 0x00, 0x00, 0x03, 0x00, 0x32, 0x0f, 0x14, 0x2b, 0x80};
const std::vector<uint8_t> kPps = {0x68, 0xce, 0x0f, 0xc8};
const std::vector<uint8_t> kAsc = {0x12, 0x10};  // AAC LC, 44.1 kHz, stereo

Message media(uint8_t type, uint32_t ts, std::vector<uint8_t> payload) {
  Message m;
  m.type_id = type;
  m.stream_id = 1;
  m.csid = type == rtmp::msg::kVideo ? 6 : 4;
  m.timestamp = ts;
  m.payload = std::move(payload);
  return m;
}

Message avc_sequence_header() {
  std::vector<uint8_t> p = {0x17, 0x00, 0, 0, 0};
  auto record = h264::build_avc_decoder_config(kSps, kPps);
  p.insert(p.end(), record->begin(), record->end());
  return media(rtmp::msg::kVideo, 0, p);
}

Message aac_sequence_header() { return media(rtmp::msg::kAudio, 0, {0xAF, 0x00, 0x12, 0x10}); }

std::vector<uint8_t> idr_nalus(size_t size) {
  std::vector<uint8_t> nal(size, 0x5A);
  nal[0] = 0x65;
  std::vector<uint8_t> out = {0, 0, static_cast<uint8_t>(size >> 8), static_cast<uint8_t>(size)};
  out.insert(out.end(), nal.begin(), nal.end());
  return out;
}

Message video_frame(uint32_t ts, bool key, size_t size, int32_t cts = 0) {
  std::vector<uint8_t> p = {static_cast<uint8_t>(key ? 0x17 : 0x27), 0x01, 0, 0, static_cast<uint8_t>(cts)};
  auto body = idr_nalus(size);
  p.insert(p.end(), body.begin(), body.end());
  return media(rtmp::msg::kVideo, ts, p);
}

Message audio_frame(uint32_t ts) { return media(rtmp::msg::kAudio, ts, {0xAF, 0x01, 0x21, 0x10, 0x04}); }

Message set_data_frame() {
  Message m;
  m.type_id = rtmp::msg::kDataAmf0;
  m.stream_id = 1;
  m.csid = 5;
  encode_amf0(Amf0Value::make_string("@setDataFrame"), m.payload);
  encode_amf0(Amf0Value::make_string("onMetaData"), m.payload);
  encode_amf0(Amf0Value::make_ecma_array({{"width", Amf0Value::make_number(320)},
                                          {"height", Amf0Value::make_number(240)},
                                          {"framerate", Amf0Value::make_number(25)}}),
              m.payload);
  return m;
}

class RtmpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(hub.add("demo", "demo-key").ok());
    server = std::make_unique<RtmpServer>(loop, hub, metrics);
    Status s = server->listen(ListenAddress{"127.0.0.1", 0});
    ASSERT_TRUE(s.ok()) << s.error().message;
    port = server->port();
    ASSERT_NE(port, 0);
    loop.start();
  }
  void TearDown() override {
    loop.stop();
    server.reset();
  }

  uint64_t counter(const std::string& name, std::vector<std::pair<std::string, std::string>> labels = {}) {
    return metrics.counter(name, "", std::move(labels)).value();
  }

  std::unique_ptr<TestClient> publisher(const std::string& key, std::string* code) {
    auto c = std::make_unique<TestClient>();
    EXPECT_TRUE(c->connect_rtmp(port));
    EXPECT_TRUE(c->create_stream());
    *code = c->publish(key);
    return c;
  }

  Hub hub;
  Metrics metrics;
  EventLoop loop;
  std::unique_ptr<RtmpServer> server;
  uint16_t port = 0;
};

TEST_F(RtmpServerTest, ListenErrorNamesThePort) {
  RtmpServer other(loop, hub, metrics);
  // Binding a second listener to the port in use: the loop thread owns handles, so do it there.
  std::promise<Status> result;
  loop.post([&] { result.set_value(other.listen(ListenAddress{"127.0.0.1", port})); });
  Status s = result.get_future().get();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message, "rtmp.listen 127.0.0.1:" + std::to_string(port) + ": address already in use");
  std::promise<void> closed;
  loop.post([&] {
    other.close();
    closed.set_value();
  });
  closed.get_future().get();
}

TEST_F(RtmpServerTest, ConnectGetsControlMessagesAndResult) {
  TestClient c;
  ASSERT_TRUE(c.connect_rtmp(port));
  bool window = false, bandwidth = false, chunk = false;
  for (const auto& m : c.seen) {
    window |= m.type_id == rtmp::msg::kWindowAckSize && rtmp::parse_u32_control(m).value() == 2500000;
    bandwidth |= m.type_id == rtmp::msg::kSetPeerBandwidth;
    chunk |= m.type_id == rtmp::msg::kSetChunkSize && rtmp::parse_u32_control(m).value() == 4096;
  }
  EXPECT_TRUE(window);
  EXPECT_TRUE(bandwidth);
  EXPECT_TRUE(chunk);
  EXPECT_TRUE(c.create_stream());
}

TEST_F(RtmpServerTest, WrongKeyGetsBadNameAndIsClosed) {
  std::string code;
  auto c = publisher("wrong-key", &code);
  EXPECT_EQ(code, "NetStream.Publish.BadName");
  EXPECT_TRUE(c->wait_closed());
  EXPECT_FALSE(hub.find("demo")->live());
  EXPECT_EQ(counter("anchorcast_publish_rejects_total", {{"reason", "bad_key"}}), 1u);
}

TEST_F(RtmpServerTest, RightKeyWithQuerySuffixGoesLive) {
  std::string code;
  auto c = publisher("demo-key?obs=1", &code);
  EXPECT_EQ(code, "NetStream.Publish.Start");
  EXPECT_TRUE(test::wait_until([&] { return hub.find("demo")->live(); }));
  EXPECT_EQ(hub.find("demo")->snapshot().protocol, "rtmp");
}

TEST_F(RtmpServerTest, SecondPublisherIsRefusedAndTheFirstKeepsStreaming) {
  std::string code;
  auto first = publisher("demo-key", &code);
  ASSERT_EQ(code, "NetStream.Publish.Start");
  first->send(set_data_frame());
  first->send(avc_sequence_header());
  first->send(aac_sequence_header());
  first->send(video_frame(0, true, 1000));

  auto second = publisher("demo-key", &code);
  EXPECT_EQ(code, "NetStream.Publish.BadName");
  EXPECT_TRUE(second->wait_closed());
  EXPECT_EQ(counter("anchorcast_publish_rejects_total", {{"reason", "already_live"}}), 1u);

  first->send(video_frame(40, false, 500));
  EXPECT_TRUE(test::wait_until([&] { return hub.find("demo")->snapshot().packets_in == 2; }));
  auto snap = hub.find("demo")->snapshot();
  EXPECT_TRUE(snap.live);
  ASSERT_TRUE(snap.tracks);
  ASSERT_TRUE(snap.tracks->video);
  EXPECT_EQ(snap.tracks->video->width, 320);
  EXPECT_EQ(snap.tracks->video->height, 240);
  EXPECT_EQ(snap.tracks->video->fps, 25);
  ASSERT_TRUE(snap.tracks->audio);
  EXPECT_EQ(snap.tracks->audio->sample_rate, 44100);
  EXPECT_EQ(snap.tracks->audio->channels, 2);
}

TEST_F(RtmpServerTest, PlayerReceivesSequenceHeadersAndMedia) {
  std::string code;
  auto pub = publisher("demo-key", &code);
  ASSERT_EQ(code, "NetStream.Publish.Start");
  pub->set_chunk_size(4096);
  pub->send(set_data_frame());
  pub->send(avc_sequence_header());
  pub->send(aac_sequence_header());
  pub->send(video_frame(1000, true, 6000, 40));  // spans two 4096-byte chunks
  pub->send(audio_frame(1010));

  TestClient player;
  ASSERT_TRUE(player.connect_rtmp(port));
  ASSERT_TRUE(player.create_stream());
  EXPECT_EQ(player.play("demo"), "NetStream.Play.Start");

  auto video_seq = player.wait_for([](const Message& m) { return m.type_id == rtmp::msg::kVideo; });
  ASSERT_TRUE(video_seq);
  EXPECT_EQ(video_seq->payload, avc_sequence_header().payload);
  auto audio_seq = player.wait_for([](const Message& m) { return m.type_id == rtmp::msg::kAudio; });
  ASSERT_TRUE(audio_seq);
  EXPECT_EQ(audio_seq->payload, aac_sequence_header().payload);
  auto key = player.wait_for([](const Message& m) { return m.type_id == rtmp::msg::kVideo; });
  ASSERT_TRUE(key);
  EXPECT_EQ(key->payload, video_frame(1000, true, 6000, 40).payload);  // prefix incl. cts + NALUs
  EXPECT_EQ(key->timestamp, 1000u);
  auto audio = player.wait_for([](const Message& m) { return m.type_id == rtmp::msg::kAudio; });
  ASSERT_TRUE(audio);
  EXPECT_EQ(audio->payload, audio_frame(1010).payload);
  EXPECT_EQ(audio->timestamp, 1010u);

  bool metadata = false, sample_access = false;
  for (const auto& m : player.seen) {
    if (m.type_id != rtmp::msg::kDataAmf0) continue;
    auto d = rtmp::parse_data(m);
    ASSERT_TRUE(d.ok());
    if (d->name == "onMetaData") {
      metadata = true;
      EXPECT_EQ(d->values[0].get_number("width"), 320.0);
      EXPECT_EQ(d->values[0].get_number("framerate"), 25.0);
    }
    sample_access |= d->name == "|RtmpSampleAccess";
  }
  EXPECT_TRUE(metadata);
  EXPECT_TRUE(sample_access);

  // Live packets after the GOP cache.
  pub->send(video_frame(1040, false, 300));
  auto live = player.wait_for(
      [](const Message& m) { return m.type_id == rtmp::msg::kVideo && m.timestamp >= 1040; });
  ASSERT_TRUE(live);
  EXPECT_EQ(live->payload[0], 0x27);

  // The anchor drops: the viewer stays connected.
  pub.reset();
  EXPECT_TRUE(test::wait_until([&] { return !hub.find("demo")->live(); }));
  EXPECT_FALSE(player.wait_closed(300));
  EXPECT_EQ(hub.find("demo")->snapshot().viewers[static_cast<int>(ViewerProtocol::rtmp)], 1);
  EXPECT_GT(counter("anchorcast_egress_bytes_total", {{"protocol", "rtmp"}}), 6000u);
}

TEST_F(RtmpServerTest, ViewerResumesWhenTheAnchorReconnects) {
  TestClient player;
  ASSERT_TRUE(player.connect_rtmp(port));
  ASSERT_TRUE(player.create_stream());
  EXPECT_EQ(player.play("demo"), "NetStream.Play.Start");  // not live yet: the viewer waits

  uint32_t last_ts = 0;
  for (int session = 0; session < 2; ++session) {
    std::string code;
    auto pub = publisher("demo-key", &code);
    ASSERT_EQ(code, "NetStream.Publish.Start") << session;
    pub->send(avc_sequence_header());
    pub->send(aac_sequence_header());
    // Each anchor session starts its own clock at 0.
    for (uint32_t i = 0; i < 10; ++i) pub->send(video_frame(i * 40, i == 0, 200));
    // The sequence header is re-sent for the new session, then media follows on one
    // steady timeline: no jump back to 0.
    auto seq = player.wait_for([](const Message& m) { return m.type_id == rtmp::msg::kVideo && m.payload[1] == 0; });
    ASSERT_TRUE(seq) << session;
    for (int i = 0; i < 10; ++i) {
      auto frame =
          player.wait_for([](const Message& m) { return m.type_id == rtmp::msg::kVideo && m.payload[1] == 1; });
      ASSERT_TRUE(frame) << session << " " << i;
      if (session == 1 || i > 0) {
        EXPECT_GT(frame->timestamp, last_ts) << session << " " << i;
      }
      last_ts = frame->timestamp;
    }
    pub.reset();  // the anchor drops
    EXPECT_TRUE(test::wait_until([&] { return !hub.find("demo")->live(); }));
  }
  EXPECT_FALSE(player.wait_closed(200));
}

TEST_F(RtmpServerTest, SlowViewerIsSkippedToAKeyframeInsteadOfBuffered) {
  std::string code;
  auto pub = publisher("demo-key", &code);
  ASSERT_EQ(code, "NetStream.Publish.Start");
  pub->set_chunk_size(65536);
  pub->send(avc_sequence_header());
  pub->send(video_frame(0, true, 1000));

  TestClient player;
  ASSERT_TRUE(player.connect_rtmp(port));
  ASSERT_TRUE(player.create_stream());
  ASSERT_EQ(player.play("demo"), "NetStream.Play.Start");
  ASSERT_TRUE(player.wait_for([](const Message& m) { return m.type_id == rtmp::msg::kVideo && m.payload[1] == 1; }));

  // The player stops reading while ~120 MB go by: far more than socket buffers hold.
  const uint32_t frames = 3000;
  for (uint32_t i = 1; i <= frames; ++i) pub->send(video_frame(i * 40, i % 30 == 0, 40000));
  ASSERT_TRUE(test::wait_until([&] { return hub.find("demo")->snapshot().packets_in == frames + 1; },
                               std::chrono::seconds(20)));
  auto snap = hub.find("demo")->snapshot();
  EXPECT_GT(snap.packets_dropped, 0u);

  // Reading again: after the gap the viewer gets a keyframe first, and the last frame.
  uint32_t previous = 0;
  bool checked_gap = false;
  auto last = player.wait_for(
      [&](const Message& m) {
        if (m.type_id != rtmp::msg::kVideo || m.payload[1] != 1) return false;
        if (!checked_gap && previous && m.timestamp > previous + 40) {
          EXPECT_EQ(m.payload[0], 0x17) << "first frame after a skip must be a keyframe";
          checked_gap = true;
        }
        previous = m.timestamp;
        return m.timestamp == frames * 40;
      },
      20000);
  ASSERT_TRUE(last);
  EXPECT_TRUE(checked_gap);
}

TEST_F(RtmpServerTest, PlayUnknownStreamIsNotFound) {
  TestClient c;
  ASSERT_TRUE(c.connect_rtmp(port));
  ASSERT_TRUE(c.create_stream());
  EXPECT_EQ(c.play("nope"), "NetStream.Play.StreamNotFound");
  EXPECT_TRUE(c.wait_closed());
}

TEST_F(RtmpServerTest, RemovedStreamClosesItsViewers) {
  TestClient c;
  ASSERT_TRUE(c.connect_rtmp(port));
  ASSERT_TRUE(c.create_stream());
  EXPECT_EQ(c.play("demo"), "NetStream.Play.Start");
  hub.remove("demo");
  EXPECT_TRUE(c.wait_closed());
}

TEST_F(RtmpServerTest, AnswersPings) {
  TestClient c;
  ASSERT_TRUE(c.connect_rtmp(port));
  c.send(rtmp::make_user_control(rtmp::UserControlEvent::ping_request, 4242));
  auto pong = c.wait_for([](const Message& m) {
    if (m.type_id != rtmp::msg::kUserControl) return false;
    auto uc = rtmp::parse_user_control(m);
    return uc && uc->event == rtmp::UserControlEvent::ping_response;
  });
  ASSERT_TRUE(pong);
  EXPECT_EQ(rtmp::parse_user_control(*pong)->value, 4242u);
}

TEST_F(RtmpServerTest, AcknowledgesThePeersWindow) {
  std::string code;
  auto pub = publisher("demo-key", &code);
  ASSERT_EQ(code, "NetStream.Publish.Start");
  pub->send(rtmp::make_window_ack_size(10000));
  pub->send(avc_sequence_header());
  for (uint32_t i = 0; i < 5; ++i) pub->send(video_frame(i * 40, i == 0, 3000));
  auto ack = pub->wait_for([](const Message& m) { return m.type_id == rtmp::msg::kAcknowledgement; });
  ASSERT_TRUE(ack);
  EXPECT_GE(rtmp::parse_u32_control(*ack).value(), 10000u);
}

TEST_F(RtmpServerTest, GarbageClosesTheConnectionAndTheServerKeepsRunning) {
  TestClient http;
  ASSERT_TRUE(http.connect_tcp(port));
  std::string get = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  http.send_raw(std::span(reinterpret_cast<const uint8_t*>(get.data()), get.size()));
  EXPECT_TRUE(http.wait_closed());

  TestClient absurd;
  ASSERT_TRUE(absurd.connect_rtmp(port));
  absurd.send(rtmp::make_set_chunk_size(0x7FFFFFFF));
  EXPECT_TRUE(absurd.wait_closed());

  TestClient bad_amf;
  ASSERT_TRUE(bad_amf.connect_rtmp(port));
  Message m;
  m.type_id = rtmp::msg::kCommandAmf0;
  m.csid = 3;
  m.payload = {0x02, 0x00, 0x05, 'p', 'l', 'a', 'y', 'x', 0x00, 0x40};  // truncated number
  bad_amf.send(m);
  EXPECT_TRUE(bad_amf.wait_closed());

  TestClient huge;
  ASSERT_TRUE(huge.connect_rtmp(port));
  std::vector<uint8_t> chunk = {0x06, 0, 0, 0, 0xFF, 0xFF, 0xFF, 9, 1, 0, 0, 0};  // 16 MiB message
  huge.send_raw(chunk);
  EXPECT_TRUE(huge.wait_closed());

  EXPECT_TRUE(test::wait_until([&] { return counter("anchorcast_rtmp_protocol_errors_total") == 4; }));
  EXPECT_EQ(counter("anchorcast_publish_rejects_total", {{"reason", "protocol_error"}}), 4u);

  std::string code;
  auto ok = publisher("demo-key", &code);
  EXPECT_EQ(code, "NetStream.Publish.Start");
}

TEST_F(RtmpServerTest, PublisherDisconnectFreesTheStream) {
  std::string code;
  {
    auto first = publisher("demo-key", &code);
    ASSERT_EQ(code, "NetStream.Publish.Start");
  }
  EXPECT_TRUE(test::wait_until([&] { return !hub.find("demo")->live(); }));
  auto again = publisher("demo-key", &code);
  EXPECT_EQ(code, "NetStream.Publish.Start");
}

}  // namespace
}  // namespace anchorcast

namespace anchorcast {
namespace {

// Two data-plane loops: the listener deals connections to both in turn, and players on
// either loop get every frame the anchor sends, in order.
TEST(RtmpServerOnTwoLoops, ConnectionsAreSpreadAndEveryPlayerGetsEveryFrame) {
  Hub hub;
  Metrics metrics;
  ASSERT_TRUE(hub.add("demo", "demo-key").ok());
  EventLoop first, second;
  auto server = std::make_unique<RtmpServer>(std::vector<EventLoop*>{&first, &second}, hub, metrics);
  ASSERT_TRUE(server->listen(ListenAddress{"127.0.0.1", 0}).ok());
  first.start();
  second.start();

  TestClient pub;
  ASSERT_TRUE(pub.connect_rtmp(server->port()));
  ASSERT_TRUE(pub.create_stream());
  ASSERT_EQ(pub.publish("demo-key"), "NetStream.Publish.Start");
  pub.set_chunk_size(4096);
  pub.send(avc_sequence_header());
  pub.send(aac_sequence_header());
  pub.send(video_frame(1000, true, 3000));

  constexpr int kPlayers = 4, kFrames = 60;
  std::vector<std::unique_ptr<TestClient>> players;
  for (int i = 0; i < kPlayers; ++i) {
    auto& p = players.emplace_back(std::make_unique<TestClient>());
    ASSERT_TRUE(p->connect_rtmp(server->port()));
    ASSERT_TRUE(p->create_stream());
    ASSERT_EQ(p->play("demo"), "NetStream.Play.Start");
    ASSERT_TRUE(p->wait_for([](const Message& m) { return m.type_id == rtmp::msg::kVideo && m.timestamp == 1000; }));
  }
  auto per_loop = server->connections_per_loop();
  ASSERT_EQ(per_loop.size(), 2u);
  EXPECT_EQ(per_loop[0] + per_loop[1], size_t{kPlayers + 1});
  EXPECT_GE(per_loop[0], 2u);  // round robin: 3 and 2
  EXPECT_GE(per_loop[1], 2u);

  for (int i = 1; i <= kFrames; ++i) pub.send(video_frame(1000 + 40 * i, false, 200 + i));
  uint32_t last = 1000 + 40 * kFrames;
  for (auto& p : players) {
    ASSERT_TRUE(p->wait_for([last](const Message& m) { return m.type_id == rtmp::msg::kVideo && m.timestamp == last; },
                            5000));
    std::vector<uint32_t> frames;
    for (const auto& m : p->seen)
      if (m.type_id == rtmp::msg::kVideo && m.timestamp > 1000) frames.push_back(m.timestamp);
    ASSERT_EQ(frames.size(), size_t{kFrames}) << "a player missed frames";
    for (int i = 0; i < kFrames; ++i) EXPECT_EQ(frames[i], 1000u + 40u * (i + 1));
  }
  first.stop();
  second.stop();
  server.reset();
}

}  // namespace
}  // namespace anchorcast
