// RtmpPublish with Enhanced RTMP v1 video (veovera enhanced-rtmp v1, Table 4): hvc1
// SequenceStart / CodedFrames / CodedFramesX bodies in, an HEVC VideoTrack and hub
// packets out; other FourCCs, metadata and v2 packets dropped with one log line.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "anchorcast/hub/hub.hpp"
#include "hevc_record.hpp"
#include "relay/ingest/rtmp/rtmp_publish.hpp"
#include "relay/protocol/flv/ex_video_tag.hpp"

namespace anchorcast {
namespace {

using fixtures::kHvcc240p;

using Bytes = std::vector<uint8_t>;

// Slice NAL units cut after a few bytes (only their 2-byte headers matter here): the
// first IDR_N_LP (type 20) and TRAIL_R (type 1) slices of the same stream.
const Bytes kIdrSlice = {0x28, 0x01, 0xaf, 0x1d, 0x20, 0xbd, 0x90, 0xbd};
const Bytes kTrailSlice = {0x02, 0x01, 0xd0, 0x29, 0x4b, 0xe1};

Bytes with_lengths(const Bytes& nal, int length_size) {
  const auto n = static_cast<size_t>(length_size);
  Bytes out(n + nal.size());
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<uint8_t>(nal.size() >> (8 * (n - 1 - i)));
  std::copy(nal.begin(), nal.end(), out.begin() + static_cast<std::ptrdiff_t>(n));
  return out;
}

Bytes concat(std::span<const uint8_t> a, std::span<const uint8_t> b) {
  Bytes out(a.begin(), a.end());
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

// Table 4: SequenceStart (key, PacketType 0) + hvc1 + the record.
Bytes sequence_start(const Bytes& record = kHvcc240p) {
  return concat(flv::hevc_sequence_start_prefix(), record);
}

// Key/inter CodedFrames (with the SI24 composition time) or CodedFramesX when it is 0.
Bytes coded_frames(bool key, int32_t cts, const Bytes& au) {
  return concat(flv::serialize_hevc_coded_frames_prefix(key, cts).bytes(), au);
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) ++n;
  return n;
}

class RtmpPublishHevcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(hub.add("demo", "k").ok());
    stream = hub.find("demo");
    sub = stream->subscribe({ViewerProtocol::internal, 256, nullptr});
    auto publisher = stream->begin_publish("rtmp");
    ASSERT_TRUE(publisher.ok());
    publish = std::make_unique<RtmpPublish>(std::move(*publisher), "test");
  }
  std::vector<MediaEvent> events() {
    std::vector<MediaEvent> out;
    sub->pop_all(out);
    return out;
  }
  std::vector<PacketPtr> video_packets() {
    std::vector<PacketPtr> out;
    for (const auto& e : events())
      if (e.type == MediaEvent::Type::packet && e.packet->kind == MediaKind::video) out.push_back(e.packet);
    return out;
  }
  Hub hub;
  std::shared_ptr<Stream> stream;
  std::unique_ptr<Subscription> sub;
  std::unique_ptr<RtmpPublish> publish;
};

TEST_F(RtmpPublishHevcTest, SequenceStartAnnouncesAnHevcTrackAndFramesBecomePackets) {
  ASSERT_TRUE(publish->on_video(0, sequence_start()).ok());
  EXPECT_TRUE(events().empty());  // announced with the first frame

  const Bytes key_au = with_lengths(kIdrSlice, 4);
  Bytes key = coded_frames(true, 67, key_au);
  const uint8_t* key_storage = key.data();
  ASSERT_TRUE(publish->on_video(1000, std::move(key)).ok());
  const Bytes inter_au = with_lengths(kTrailSlice, 4);
  ASSERT_TRUE(publish->on_video(1033, coded_frames(false, 0, inter_au)).ok());  // CodedFramesX

  auto ev = events();
  ASSERT_EQ(ev.size(), 3u);
  ASSERT_EQ(ev[0].type, MediaEvent::Type::tracks);
  ASSERT_TRUE(ev[0].tracks->video);
  const VideoTrack& v = *ev[0].tracks->video;
  EXPECT_EQ(v.codec, Codec::hevc);
  EXPECT_EQ(v.width, 320);  // from the record's SPS
  EXPECT_EQ(v.height, 240);
  EXPECT_EQ(v.decoder_config, kHvcc240p);  // 4-byte lengths: the record as sent
  EXPECT_FALSE(ev[0].tracks->audio);

  const Packet& k = *ev[1].packet;
  EXPECT_EQ(k.codec, Codec::hevc);
  EXPECT_TRUE(k.keyframe);
  EXPECT_EQ(k.time_base, kMillis);
  EXPECT_EQ(k.dts, 1000);
  EXPECT_EQ(k.pts, 1067);  // pts = dts + CompositionTime
  EXPECT_TRUE(std::ranges::equal(k.bytes(), key_au));
  // Zero copy: the message is the packet's storage, the access unit after the 8-byte header.
  EXPECT_EQ(k.payload.data(), key_storage);
  EXPECT_EQ(k.payload_offset, 8u);

  const Packet& i = *ev[2].packet;
  EXPECT_FALSE(i.keyframe);
  EXPECT_EQ(i.dts, 1033);
  EXPECT_EQ(i.pts, 1033);  // CodedFramesX: composition time 0
  EXPECT_EQ(i.payload_offset, 5u);
  EXPECT_TRUE(std::ranges::equal(i.bytes(), inter_au));
  EXPECT_EQ(publish->packets(), 2u);
}

TEST_F(RtmpPublishHevcTest, TwoByteNalLengthsBecomeFourInThePacketsAndTheRecord) {
  Bytes record = kHvcc240p;
  record[21] = (record[21] & 0xFC) | 0x01;  // lengthSizeMinusOne 1
  ASSERT_TRUE(publish->on_video(0, sequence_start(record)).ok());
  const Bytes au = concat(with_lengths(kIdrSlice, 2), with_lengths(kTrailSlice, 2));
  ASSERT_TRUE(publish->on_video(0, coded_frames(true, 0, au)).ok());

  auto ev = events();
  ASSERT_EQ(ev.size(), 2u);
  // What viewers get says 4-byte lengths; everything else is the record as sent.
  EXPECT_EQ(ev[0].tracks->video->decoder_config, kHvcc240p);
  EXPECT_TRUE(std::ranges::equal(ev[1].packet->bytes(),
                                 concat(with_lengths(kIdrSlice, 4), with_lengths(kTrailSlice, 4))));
}

TEST_F(RtmpPublishHevcTest, TheNalUnitTypesDecideTheKeyframeFlag) {
  ASSERT_TRUE(publish->on_video(0, sequence_start()).ok());
  testing::internal::CaptureStderr();
  // Marked key, but a TRAIL_R slice: no viewer could start there.
  ASSERT_TRUE(publish->on_video(0, coded_frames(true, 0, with_lengths(kTrailSlice, 4))).ok());
  // Marked inter, but an IDR slice: a place to start.
  ASSERT_TRUE(publish->on_video(33, coded_frames(false, 0, with_lengths(kIdrSlice, 4))).ok());
  ASSERT_TRUE(publish->on_video(66, coded_frames(true, 0, with_lengths(kTrailSlice, 4))).ok());
  const std::string log = testing::internal::GetCapturedStderr();
  auto packets = video_packets();
  ASSERT_EQ(packets.size(), 3u);
  EXPECT_FALSE(packets[0]->keyframe);
  EXPECT_TRUE(packets[1]->keyframe);
  EXPECT_FALSE(packets[2]->keyframe);
  EXPECT_EQ(count(log, "IRAP"), 1u) << log;  // once per session
}

TEST_F(RtmpPublishHevcTest, CodedFramesBeforeTheSequenceStartAreDropped) {
  ASSERT_TRUE(publish->on_video(0, coded_frames(true, 0, with_lengths(kIdrSlice, 4))).ok());
  // Legacy AVC frames do not belong to an HEVC record either.
  ASSERT_TRUE(publish->on_video(0, sequence_start()).ok());
  ASSERT_TRUE(publish->on_video(0, Bytes{0x17, 0x01, 0, 0, 0, 0, 0, 0, 1, 0x65}).ok());
  // SequenceEnd: nothing to relay.
  ASSERT_TRUE(publish->on_video(0, concat(flv::hevc_sequence_end_prefix(), Bytes{})).ok());
  EXPECT_TRUE(events().empty());
  EXPECT_EQ(publish->packets(), 0u);
}

TEST_F(RtmpPublishHevcTest, UnsupportedEnhancedVideoIsDroppedWithOneLogLine) {
  testing::internal::CaptureStderr();
  for (int i = 0; i < 3; ++i) {
    // av01 SequenceStart and CodedFrames; v2 Multitrack (6) and ModEx (7).
    ASSERT_TRUE(publish->on_video(0, Bytes{0x90, 'a', 'v', '0', '1', 0x81, 0x00}).ok());
    ASSERT_TRUE(publish->on_video(0, Bytes{0x91, 'v', 'p', '0', '9', 0x12}).ok());
    ASSERT_TRUE(publish->on_video(0, Bytes{0x96, 0x00, 'h', 'v', 'c', '1', 0x00}).ok());
    ASSERT_TRUE(publish->on_video(0, Bytes{0x97, 0x00, 0x00, 0x00, 0x00}).ok());
  }
  // v1 Metadata (colorInfo, AMF) is ignored, video goes on.
  ASSERT_TRUE(publish->on_video(0, Bytes{0x84, 'h', 'v', 'c', '1', 0x02, 0x00, 0x09, 'c', 'o', 'l', 'o', 'r',
                                         'I', 'n', 'f', 'o', 0x05}).ok());
  ASSERT_TRUE(publish->on_video(0, Bytes{0x84, 'h', 'v', 'c', '1'}).ok());
  // A command frame (FrameType 5) is no picture.
  ASSERT_TRUE(publish->on_video(0, Bytes{0xD0, 0x00}).ok());
  const std::string log = testing::internal::GetCapturedStderr();
  EXPECT_EQ(count(log, "\n"), 2u) << log;  // one line for the dropped video, one for the metadata
  EXPECT_EQ(count(log, "'av01' is not supported"), 1u) << log;
  EXPECT_EQ(count(log, "metadata"), 1u) << log;
  EXPECT_TRUE(events().empty());

  // The stream still takes HEVC afterwards.
  ASSERT_TRUE(publish->on_video(0, sequence_start()).ok());
  ASSERT_TRUE(publish->on_video(0, coded_frames(true, 0, with_lengths(kIdrSlice, 4))).ok());
  EXPECT_EQ(publish->packets(), 1u);
}

TEST_F(RtmpPublishHevcTest, RejectsUndecodableHevc) {
  // A record cut short, a reserved PacketType (8), a NAL length past the end, a NAL unit
  // with forbidden_zero_bit set: each closes the session (an error to the caller).
  EXPECT_FALSE(publish->on_video(0, sequence_start(Bytes(kHvcc240p.begin(), kHvcc240p.begin() + 30))).ok());
  EXPECT_FALSE(publish->on_video(0, Bytes{0x98, 'h', 'v', 'c', '1', 0x00}).ok());
  ASSERT_TRUE(publish->on_video(0, sequence_start()).ok());
  EXPECT_FALSE(publish->on_video(0, coded_frames(true, 0, Bytes{0, 0, 0, 9, 0x28, 0x01})).ok());
  EXPECT_FALSE(publish->on_video(0, coded_frames(true, 0, with_lengths(Bytes{0xA8, 0x01, 0x00}, 4))).ok());
  EXPECT_EQ(publish->packets(), 0u);
}

TEST_F(RtmpPublishHevcTest, AFrameRateInTheRecordOrTheMetadataIsKept) {
  publish->on_metadata(rtmp::Amf0Value::make_ecma_array({{"framerate", rtmp::Amf0Value::make_number(30)}}));
  ASSERT_TRUE(publish->on_video(0, sequence_start()).ok());  // avgFrameRate 0: unknown
  ASSERT_TRUE(publish->on_video(0, coded_frames(true, 0, with_lengths(kIdrSlice, 4))).ok());
  ASSERT_TRUE(publish->announced().video);
  EXPECT_DOUBLE_EQ(publish->announced().video->fps, 30);

  Bytes record = kHvcc240p;
  record[19] = 0x19;  // avgFrameRate 6400 / 256 s = 25 fps (14496-15 8.3.3.1.3)
  record[20] = 0x00;
  ASSERT_TRUE(publish->on_video(40, sequence_start(record)).ok());
  ASSERT_TRUE(publish->on_video(40, coded_frames(true, 0, with_lengths(kIdrSlice, 4))).ok());
  EXPECT_DOUBLE_EQ(publish->announced().video->fps, 25);
  EXPECT_EQ(publish->announced().video->decoder_config, record);
}

}  // namespace
}  // namespace anchorcast
