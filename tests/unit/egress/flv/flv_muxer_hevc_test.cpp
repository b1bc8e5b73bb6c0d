// FlvMuxer and FramedTag with an HEVC track: Enhanced RTMP v1 tags (veovera
// enhanced-rtmp v1, Table 4 and "Enhancing onMetaData") read back with our parsers.
#include <gtest/gtest.h>

#include <algorithm>

#include "relay/egress/flv/flv_muxer.hpp"
#include "relay/protocol/flv/ex_video_tag.hpp"
#include "relay/protocol/flv/flv_header.hpp"
#include "relay/protocol/flv/flv_tag.hpp"
#include "relay/protocol/rtmp/amf0.hpp"

namespace anchorcast {
namespace {

using Bytes = std::vector<uint8_t>;

// An hvcC's first bytes stand in for the record: the muxer copies it, never reads it.
const Bytes kRecord = {0x01, 0x01, 0x60, 0x00, 0x00, 0x00, 0x90, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3c};

TrackSet hevc_tracks() {
  TrackSet t;
  t.video = VideoTrack{Codec::hevc, 640, 360, 30, kRecord};
  t.audio = AudioTrack{Codec::aac, 44100, 1, {0x12, 0x08}};
  return t;
}

PacketPtr hevc_packet(int64_t dts, int64_t pts, bool key, uint8_t fill) {
  auto p = std::make_shared<Packet>();
  p->kind = MediaKind::video;
  p->codec = Codec::hevc;
  p->keyframe = key;
  p->dts = dts;
  p->pts = pts;
  p->payload = {0, 0, 0, 4, static_cast<uint8_t>(key ? 0x28 : 0x02), 0x01, fill, fill};
  return p;
}

PacketPtr aac_packet(int64_t dts) {
  auto p = std::make_shared<Packet>();
  p->kind = MediaKind::audio;
  p->codec = Codec::aac;
  p->keyframe = true;
  p->dts = p->pts = dts;
  p->payload = {0x21, 0x10, 0x04};
  return p;
}

struct Tag {
  flv::TagHeader header;
  Bytes body;
};

std::vector<Tag> parse(const FlvBatch& batch, flv::FileHeader* file_header) {
  Bytes bytes;
  for (auto span : batch.spans()) bytes.insert(bytes.end(), span.begin(), span.end());
  std::vector<Tag> tags;
  auto header = flv::parse_file_header(bytes);
  EXPECT_TRUE(header.ok());
  if (!header) return tags;
  *file_header = *header;
  std::span<const uint8_t> rest = std::span<const uint8_t>(bytes).subspan(flv::kFileHeaderWithTagSize0);
  while (!rest.empty()) {
    auto tag = flv::parse_tag(rest);
    EXPECT_TRUE(tag.ok()) << tag.error().message;
    if (!tag) break;
    tags.push_back({tag->header, Bytes(tag->body.begin(), tag->body.end())});
    rest = rest.subspan(tag->size());
  }
  return tags;
}

TEST(FlvMuxerHevc, WritesSequenceStartThenCodedFramesAndTheFourCcInMetadata) {
  FlvMuxer muxer;
  FlvBatch batch;
  EXPECT_TRUE(muxer.on_event(MediaEvent::of_tracks(std::make_shared<const TrackSet>(hevc_tracks()), true), batch));
  const std::vector<PacketPtr> packets = {
      hevc_packet(1000, 1000, false, 0x11),  // before the first keyframe: not written
      hevc_packet(1033, 1100, true, 0x22),   // B-frames: composition time 67 ms
      aac_packet(1040),
      hevc_packet(1066, 1066, false, 0x33),  // composition time 0: CodedFramesX
      hevc_packet(1100, 1033, false, 0x44),  // negative composition time
  };
  for (const auto& p : packets) EXPECT_TRUE(muxer.on_event(MediaEvent::of_packet(p), batch));
  flv::FileHeader file_header;
  const auto tags = parse(batch, &file_header);
  EXPECT_TRUE(file_header.has_video);
  EXPECT_TRUE(file_header.has_audio);
  ASSERT_EQ(tags.size(), 3u + 4u);  // onMetaData, SequenceStart, AAC header, 4 packets

  auto meta = rtmp::decode_amf0(tags[0].body);
  ASSERT_TRUE(meta.ok());
  EXPECT_EQ((*meta)[1].get_number("videocodecid"), static_cast<double>(flv::kFourCcHevc));  // 'hvc1'
  EXPECT_EQ((*meta)[1].get_number("width"), 640);

  auto start = flv::parse_ex_video_tag_body(tags[1].body);
  ASSERT_TRUE(start.ok()) << start.error().message;
  EXPECT_EQ(tags[1].header.timestamp_ms, 1033);
  EXPECT_EQ(start->packet_type, flv::ExVideoPacketType::sequence_start);
  EXPECT_TRUE(start->is_hevc());
  EXPECT_TRUE(start->is_keyframe());
  EXPECT_TRUE(std::ranges::equal(start->data, kRecord));
  EXPECT_EQ(tags[2].header.type, flv::TagType::audio);

  struct Expect {
    size_t tag;
    const PacketPtr& packet;
    flv::ExVideoPacketType type;
  };
  for (const Expect& e : {Expect{3, packets[1], flv::ExVideoPacketType::coded_frames},
                          Expect{5, packets[3], flv::ExVideoPacketType::coded_frames_x},
                          Expect{6, packets[4], flv::ExVideoPacketType::coded_frames}}) {
    SCOPED_TRACE(e.tag);
    EXPECT_EQ(tags[e.tag].header.type, flv::TagType::video);
    EXPECT_EQ(tags[e.tag].header.timestamp_ms, e.packet->dts);
    auto body = flv::parse_ex_video_tag_body(tags[e.tag].body);
    ASSERT_TRUE(body.ok()) << body.error().message;
    EXPECT_TRUE(body->is_hevc());
    EXPECT_EQ(body->packet_type, e.type);
    EXPECT_EQ(body->is_keyframe(), e.packet->keyframe);
    EXPECT_EQ(body->composition_time_ms, e.packet->pts - e.packet->dts);
    EXPECT_TRUE(std::ranges::equal(body->data, e.packet->bytes()));
  }
  EXPECT_EQ(tags[4].header.type, flv::TagType::audio);
}

TEST(FlvMuxerHevc, FramedTagHoldsTheEightByteHeaderAndReferencesThePayload) {
  const PacketPtr p = hevc_packet(2000, 2040, true, 0x55);
  auto tag = FramedTag::build(p);
  ASSERT_TRUE(tag);
  EXPECT_EQ(tag->head_size, flv::kTagHeaderSize + flv::kExVideoPrefixMaxSize);
  EXPECT_EQ(tag->packet.get(), p.get());
  const Bytes head(tag->head_bytes().begin(), tag->head_bytes().end());
  // IsExHeader | key (1) << 4 | CodedFrames (1); 'hvc1'; SI24 40.
  EXPECT_EQ(Bytes(head.begin() + 11, head.end()), (Bytes{0x91, 'h', 'v', 'c', '1', 0x00, 0x00, 0x28}));
  auto x = FramedTag::build(hevc_packet(2000, 2000, false, 0x55));
  ASSERT_TRUE(x);
  EXPECT_EQ(x->head_size, flv::kTagHeaderSize + flv::kExVideoHeaderSize);  // CodedFramesX
  EXPECT_EQ(x->head[11], 0xA3);
}

TEST(FlvMuxerHevc, ANewSessionWithAnotherCodecStartsOverAtAKeyframe) {
  FlvMuxer muxer;
  FlvBatch batch;
  TrackSet h264 = hevc_tracks();
  h264.video->codec = Codec::h264;
  h264.video->decoder_config = {0x01, 0x64, 0x00, 0x1f, 0xff};
  muxer.on_event(MediaEvent::of_tracks(std::make_shared<const TrackSet>(h264), true), batch);
  auto avc = std::make_shared<Packet>();
  avc->codec = Codec::h264;
  avc->keyframe = true;
  avc->payload = {0, 0, 0, 1, 0x65};
  muxer.on_event(MediaEvent::of_packet(avc), batch);
  batch.clear();

  muxer.on_event(MediaEvent::of_tracks(std::make_shared<const TrackSet>(hevc_tracks()), true), batch);
  muxer.on_event(MediaEvent::of_packet(avc), batch);  // H.264 under an HEVC track: dropped
  muxer.on_event(MediaEvent::of_packet(hevc_packet(500, 500, false, 1)), batch);  // waits for a keyframe
  EXPECT_TRUE(batch.empty());
  muxer.on_event(MediaEvent::of_packet(hevc_packet(533, 533, true, 2)), batch);
  EXPECT_FALSE(batch.empty());
  Bytes bytes;
  for (auto span : batch.spans()) bytes.insert(bytes.end(), span.begin(), span.end());
  // onMetaData, then the SequenceStart, the AAC header and the keyframe.
  auto first = flv::parse_tag(bytes);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->header.type, flv::TagType::script);
  auto start = flv::parse_tag(std::span<const uint8_t>(bytes).subspan(first->size()));
  ASSERT_TRUE(start.ok());
  auto body = flv::parse_ex_video_tag_body(start->body);
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(body->packet_type, flv::ExVideoPacketType::sequence_start);
}

}  // namespace
}  // namespace anchorcast
