// RtmpViewer with an HEVC track: onMetaData with the FourCC, the SequenceStart and
// CodedFrames/CodedFramesX messages (veovera enhanced-rtmp v1), payloads referenced.
#include <gtest/gtest.h>

#include "relay/egress/rtmp/rtmp_viewer.hpp"
#include "relay/protocol/flv/ex_video_tag.hpp"
#include "relay/protocol/rtmp/chunk_reader.hpp"
#include "relay/protocol/rtmp/messages.hpp"

namespace anchorcast {
namespace {

using Bytes = std::vector<uint8_t>;

const Bytes kRecord = {0x01, 0x01, 0x60, 0x00, 0x00, 0x00, 0x90, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3c};

std::vector<rtmp::Message> parse(const RtmpPlayBatch& batch, uint32_t chunk_size) {
  Bytes bytes;
  rtmp::ChunkWriter(128).append(rtmp::make_set_chunk_size(chunk_size), bytes);
  batch.for_each_span([&](std::span<const uint8_t> s) { bytes.insert(bytes.end(), s.begin(), s.end()); });
  rtmp::ChunkReader reader;
  std::vector<rtmp::Message> out;
  EXPECT_TRUE(reader.feed(bytes, out).ok());
  out.erase(out.begin());
  return out;
}

MediaEvent hevc_packet(int64_t dts, int64_t pts, bool key, size_t size) {
  auto p = std::make_shared<Packet>();
  p->kind = MediaKind::video;
  p->codec = Codec::hevc;
  p->keyframe = key;
  p->dts = dts;
  p->pts = pts;
  p->payload.assign(size, 0x42);
  return MediaEvent::of_packet(std::move(p));
}

TEST(RtmpViewerHevc, SendsEnhancedSequenceStartAndCodedFrames) {
  TrackSet t;
  t.video = VideoTrack{Codec::hevc, 1920, 1080, 30, kRecord};
  rtmp::ChunkWriter writer(4096);
  RtmpViewer viewer(1);
  RtmpPlayBatch batch;
  FramedMessageCache cache;
  viewer.on_event(MediaEvent::of_tracks(std::make_shared<const TrackSet>(t), false), writer, cache, batch);
  viewer.on_event(hevc_packet(5000, 5040, true, 9000), writer, cache, batch);
  viewer.on_event(hevc_packet(5033, 5033, false, 100), writer, cache, batch);
  EXPECT_EQ(viewer.packets_sent(), 2u);

  auto msgs = parse(batch, 4096);
  ASSERT_EQ(msgs.size(), 4u);
  auto meta = rtmp::parse_data(msgs[0]);
  ASSERT_TRUE(meta.ok());
  EXPECT_EQ(meta->values[0].get_number("videocodecid"), static_cast<double>(flv::kFourCcHevc));
  EXPECT_EQ(meta->values[0].get_number("height"), 1080.0);

  // Table 4: IsExHeader | key << 4 | SequenceStart, 'hvc1', the record.
  Bytes start = {0x90, 'h', 'v', 'c', '1'};
  start.insert(start.end(), kRecord.begin(), kRecord.end());
  EXPECT_EQ(msgs[1].type_id, rtmp::msg::kVideo);
  EXPECT_EQ(msgs[1].timestamp, 5000u);
  EXPECT_EQ(msgs[1].payload, start);

  ASSERT_EQ(msgs[2].payload.size(), 8u + 9000u);
  EXPECT_EQ(Bytes(msgs[2].payload.begin(), msgs[2].payload.begin() + 8),
            (Bytes{0x91, 'h', 'v', 'c', '1', 0, 0, 40}));  // key, CodedFrames, cts 40
  EXPECT_EQ(msgs[2].payload.back(), 0x42);
  ASSERT_EQ(msgs[3].payload.size(), 5u + 100u);
  EXPECT_EQ(Bytes(msgs[3].payload.begin(), msgs[3].payload.begin() + 5),
            (Bytes{0xA3, 'h', 'v', 'c', '1'}));  // inter, CodedFramesX
  EXPECT_EQ(msgs[3].timestamp, 5033u);
}

TEST(RtmpViewerHevc, PlayersOfALoopShareTheFramedHevcMessage) {
  TrackSet t;
  t.video = VideoTrack{Codec::hevc, 640, 360, 30, kRecord};
  const auto tracks = MediaEvent::of_tracks(std::make_shared<const TrackSet>(t), false);
  const auto frame = hevc_packet(0, 67, true, 5000);
  rtmp::ChunkWriter writer(4096);
  FramedMessageCache cache;
  RtmpViewer a(1), b(1);
  RtmpPlayBatch batch_a, batch_b;
  a.on_event(tracks, writer, cache, batch_a);
  b.on_event(tracks, writer, cache, batch_b);
  a.on_event(frame, writer, cache, batch_a);
  b.on_event(frame, writer, cache, batch_b);
  EXPECT_EQ(cache.misses(), 1u);
  EXPECT_EQ(cache.hits(), 1u);
  EXPECT_EQ(parse(batch_a, 4096)[2].payload, parse(batch_b, 4096)[2].payload);
}

}  // namespace
}  // namespace anchorcast
