// RtmpViewer + RtmpPlayBatch: hub events in, chunked RTMP out, payloads referenced.
#include "relay/egress/rtmp/rtmp_viewer.hpp"

#include <gtest/gtest.h>

#include "relay/protocol/rtmp/chunk_reader.hpp"
#include "relay/protocol/rtmp/messages.hpp"

namespace anchorcast {
namespace {

std::vector<rtmp::Message> parse(const RtmpPlayBatch& batch, uint32_t chunk_size) {
  std::vector<uint8_t> bytes;
  rtmp::ChunkWriter(128).append(rtmp::make_set_chunk_size(chunk_size), bytes);
  batch.for_each_span([&](std::span<const uint8_t> s) { bytes.insert(bytes.end(), s.begin(), s.end()); });
  rtmp::ChunkReader reader;
  std::vector<rtmp::Message> out;
  EXPECT_TRUE(reader.feed(bytes, out).ok());
  out.erase(out.begin());
  return out;
}

MediaEvent tracks_event() {
  TrackSet t;
  t.video = VideoTrack{Codec::h264, 1280, 720, 30, {1, 0x64, 0, 0x1f, 0xff}};
  t.audio = AudioTrack{Codec::aac, 48000, 2, {0x11, 0x90}};
  return MediaEvent::of_tracks(std::make_shared<const TrackSet>(t), false);
}

MediaEvent packet_event(MediaKind kind, int64_t dts, int64_t pts, bool key, size_t size,
                        TimeBase tb = kMillis) {
  auto p = std::make_shared<Packet>();
  p->kind = kind;
  p->codec = kind == MediaKind::video ? Codec::h264 : Codec::aac;
  p->keyframe = key;
  p->time_base = tb;
  p->dts = dts;
  p->pts = pts;
  p->payload.assign(size, 0x42);
  return MediaEvent::of_packet(std::move(p));
}

TEST(RtmpViewer, SendsMetadataAndSequenceHeadersBeforeTheFirstPacket) {
  rtmp::ChunkWriter writer(4096);
  RtmpViewer viewer(1);
  RtmpPlayBatch batch;
  FramedMessageCache cache;
  EXPECT_EQ(viewer.on_event(tracks_event(), writer, cache, batch), RtmpViewer::Action::keep);
  EXPECT_TRUE(batch.empty());
  viewer.on_event(packet_event(MediaKind::video, 5000, 5040, true, 10000), writer, cache, batch);
  viewer.on_event(packet_event(MediaKind::audio, 5010, 5010, true, 300), writer, cache, batch);

  auto msgs = parse(batch, 4096);
  ASSERT_EQ(msgs.size(), 5u);
  auto meta = rtmp::parse_data(msgs[0]);
  ASSERT_TRUE(meta.ok());
  EXPECT_EQ(meta->name, "onMetaData");
  EXPECT_EQ(msgs[0].timestamp, 0u);
  EXPECT_EQ(meta->values[0].get_number("width"), 1280.0);
  EXPECT_EQ(meta->values[0].get_number("videocodecid"), 7.0);
  EXPECT_EQ(meta->values[0].get_number("audiosamplerate"), 48000.0);

  EXPECT_EQ(msgs[1].type_id, rtmp::msg::kVideo);
  EXPECT_EQ(msgs[1].payload, (std::vector<uint8_t>{0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x1f, 0xff}));
  EXPECT_EQ(msgs[1].timestamp, 5000u);
  EXPECT_EQ(msgs[2].type_id, rtmp::msg::kAudio);
  EXPECT_EQ(msgs[2].payload, (std::vector<uint8_t>{0xAF, 0x00, 0x11, 0x90}));

  EXPECT_EQ(msgs[3].type_id, rtmp::msg::kVideo);
  EXPECT_EQ(msgs[3].timestamp, 5000u);
  ASSERT_EQ(msgs[3].payload.size(), 10005u);
  EXPECT_EQ(std::vector<uint8_t>(msgs[3].payload.begin(), msgs[3].payload.begin() + 5),
            (std::vector<uint8_t>{0x17, 0x01, 0, 0, 40}));  // key, NALU, cts 40
  EXPECT_EQ(msgs[4].type_id, rtmp::msg::kAudio);
  EXPECT_EQ(msgs[4].timestamp, 5010u);
  EXPECT_EQ(msgs[4].payload[0], 0xAF);
  EXPECT_EQ(msgs[4].payload[1], 0x01);
  EXPECT_EQ(viewer.packets_sent(), 2u);
}

TEST(RtmpViewer, ReferencesPayloadsWithoutCopying) {
  rtmp::ChunkWriter writer(4096);
  RtmpViewer viewer(1);
  RtmpPlayBatch batch;
  FramedMessageCache cache;
  auto e = packet_event(MediaKind::video, 0, 0, true, 20000);
  const uint8_t* payload = e.packet->payload.data();
  viewer.on_event(e, writer, cache, batch);
  size_t referenced = 0;
  batch.for_each_span([&](std::span<const uint8_t> s) {
    if (s.data() >= payload && s.data() < payload + 20000) referenced += s.size();
  });
  EXPECT_EQ(referenced, 20000u);
  EXPECT_EQ(batch.packet_count(), 1u);
  e.packet.reset();  // the batch keeps the packet alive
  EXPECT_EQ(parse(batch, 4096).at(0).payload.size(), 20005u);
}

TEST(RtmpViewer, RescalesTimestampsToMilliseconds) {
  rtmp::ChunkWriter writer(4096);
  RtmpViewer viewer(1);
  RtmpPlayBatch batch;
  FramedMessageCache cache;
  viewer.on_event(packet_event(MediaKind::video, 90000 * 3, 90000 * 3 + 3000, false, 10, k90kHz), writer, cache, batch);
  auto msgs = parse(batch, 4096);
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].timestamp, 3000u);
  EXPECT_EQ(msgs[0].payload[4], 33);  // 3000 / 90 kHz = 33 ms composition time
  EXPECT_EQ(msgs[0].payload[0], 0x27);  // inter frame
}

TEST(RtmpViewer, KeepsTheViewerWhenThePublisherGoesAndClosesWhenTheStreamDoes) {
  rtmp::ChunkWriter writer(4096);
  RtmpViewer viewer(1);
  RtmpPlayBatch batch;
  FramedMessageCache cache;
  MediaEvent gone;
  gone.type = MediaEvent::Type::publisher_gone;
  EXPECT_EQ(viewer.on_event(gone, writer, cache, batch), RtmpViewer::Action::keep);
  MediaEvent closed;
  closed.type = MediaEvent::Type::stream_closed;
  EXPECT_EQ(viewer.on_event(closed, writer, cache, batch), RtmpViewer::Action::close);
  EXPECT_TRUE(batch.empty());
}

TEST(RtmpViewer, DropsCodecsFlvCannotCarry) {
  rtmp::ChunkWriter writer(4096);
  RtmpViewer viewer(1);
  RtmpPlayBatch batch;
  FramedMessageCache cache;
  // FLV carries H.264 and (Enhanced RTMP) HEVC video, AAC audio; Opus in neither kind.
  auto video = packet_event(MediaKind::video, 0, 0, true, 10);
  std::const_pointer_cast<Packet>(video.packet)->codec = Codec::opus;
  viewer.on_event(video, writer, cache, batch);
  auto audio = packet_event(MediaKind::audio, 0, 0, true, 10);
  std::const_pointer_cast<Packet>(audio.packet)->codec = Codec::opus;
  viewer.on_event(audio, writer, cache, batch);
  EXPECT_TRUE(batch.empty());
  EXPECT_EQ(viewer.packets_sent(), 0u);
}

}  // namespace
}  // namespace anchorcast

namespace anchorcast {
namespace {

MediaEvent cue_event(int64_t pts_ms, uint64_t version, std::string json) {
  return MediaEvent::of_cue(std::make_shared<const Cue>(Cue{pts_ms, version, std::move(json)}));
}

TEST(RtmpViewerCue, CueIsAnOnCuePointDataMessageAtItsPts) {
  rtmp::ChunkWriter writer(4096);
  RtmpViewer viewer(1);
  RtmpPlayBatch batch;
  FramedMessageCache cache;
  viewer.on_event(tracks_event(), writer, cache, batch);
  viewer.on_event(packet_event(MediaKind::video, 5000, 5000, true, 100), writer, cache, batch);
  const std::string json = R"({"type":"overlays","version":9,"pts_ms":5020,"overlays":[{"id":"c1","url":"https://x"}]})";
  viewer.on_event(cue_event(5020, 9, json), writer, cache, batch);
  auto msgs = parse(batch, 4096);
  ASSERT_EQ(msgs.size(), 5u);
  const auto& m = msgs[4];
  EXPECT_EQ(m.type_id, rtmp::msg::kDataAmf0);
  EXPECT_EQ(m.stream_id, 1u);
  EXPECT_EQ(m.timestamp, 5020u);
  auto data = rtmp::parse_data(m);
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(data->name, "onCuePoint");
  ASSERT_EQ(data->values.size(), 1u);
  EXPECT_EQ(data->values[0].get_string("name"), "overlay");
  EXPECT_EQ(data->values[0].get_number("time"), 5.02);
  const auto* params = data->values[0].get("parameters");
  ASSERT_TRUE(params);
  EXPECT_EQ(params->get_string("json"), json);
  EXPECT_EQ(params->get_number("version"), 9.0);
}

TEST(RtmpViewerCue, CueBeforeTheFirstPacketFollowsItAndLongJsonSpansChunks) {
  rtmp::ChunkWriter writer(128);
  RtmpViewer viewer(1);
  RtmpPlayBatch batch;
  FramedMessageCache cache;
  const std::string json = R"({"overlays":[],"pad":")" + std::string(5000, 'x') + R"("})";
  viewer.on_event(cue_event(30, 2, json), writer, cache, batch);
  EXPECT_TRUE(batch.empty());
  viewer.on_event(tracks_event(), writer, cache, batch);
  viewer.on_event(packet_event(MediaKind::video, 40, 40, true, 100), writer, cache, batch);
  auto msgs = parse(batch, 128);
  ASSERT_EQ(msgs.size(), 5u);
  EXPECT_EQ(msgs[3].type_id, rtmp::msg::kVideo);
  ASSERT_EQ(msgs[4].type_id, rtmp::msg::kDataAmf0);
  EXPECT_EQ(msgs[4].timestamp, 30u);
  auto data = rtmp::parse_data(msgs[4]);
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(data->values[0].get("parameters")->get_string("json"), json);
}

}  // namespace
}  // namespace anchorcast
