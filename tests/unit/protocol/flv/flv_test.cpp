#include <gtest/gtest.h>

#include "media_fixtures.hpp"
#include "relay/protocol/flv/audio_tag.hpp"
#include "relay/protocol/flv/flv_header.hpp"
#include "relay/protocol/flv/flv_tag.hpp"
#include "relay/protocol/flv/video_tag.hpp"

namespace anchorcast::flv {
namespace {

std::vector<uint8_t> small_flv() {
  return fixtures::read_file(std::string(ANCHORCAST_TEST_DATA) + "/small_320x180_h264_aac.flv");
}

TEST(FlvHeader, ParsesFfmpegFileAndRoundTrips) {
  const auto file = small_flv();
  ASSERT_GT(file.size(), 13u);
  auto h = parse_file_header(file);
  ASSERT_TRUE(h.ok()) << h.error().message;
  EXPECT_EQ(h->version, 1);
  EXPECT_TRUE(h->has_audio);
  EXPECT_TRUE(h->has_video);
  EXPECT_EQ(h->data_offset, 9u);
  auto bytes = serialize_file_header(*h);
  EXPECT_TRUE(std::equal(bytes.begin(), bytes.end(), file.begin()));
}

TEST(FlvHeader, RejectsBadSignatureAndShortInput) {
  EXPECT_FALSE(parse_file_header(std::vector<uint8_t>{'F', 'L', 'V', 1}).ok());
  auto bytes = serialize_file_header({});
  bytes[0] = 'G';
  EXPECT_FALSE(parse_file_header(bytes).ok());
}

TEST(FlvTag, WalksEveryTagOfAnFfmpegFile) {
  const auto file = small_flv();
  std::span<const uint8_t> rest(file);
  rest = rest.subspan(kFileHeaderWithTagSize0);
  int script = 0, video = 0, audio = 0, keyframes = 0, nonzero_cts = 0;
  int64_t last_video_ts = -1;
  while (!rest.empty()) {
    auto tag = parse_tag(rest);
    ASSERT_TRUE(tag.ok()) << tag.error().message;
    // Header serialization is the exact inverse of parsing.
    auto header = serialize_tag_header(tag->header);
    EXPECT_TRUE(std::equal(header.begin(), header.end(), rest.begin()));
    if (tag->header.type == TagType::script) ++script;
    if (tag->header.type == TagType::video) {
      auto body = parse_video_tag_body(tag->body);
      ASSERT_TRUE(body.ok()) << body.error().message;
      EXPECT_TRUE(body->is_avc());
      if (body->avc_packet_type == AvcPacketType::nalu) {
        ++video;
        keyframes += body->is_keyframe();
        nonzero_cts += body->composition_time_ms != 0;
        EXPECT_GT(tag->header.timestamp_ms, last_video_ts);
        last_video_ts = tag->header.timestamp_ms;
        // The 5-byte prefix we would write for this packet is the one FFmpeg wrote.
        auto packet = video_packet_from_tag(*body, tag->header.timestamp_ms);
        ASSERT_TRUE(packet.ok());
        auto prefix = video_tag_prefix(*packet);
        ASSERT_TRUE(prefix.ok());
        EXPECT_TRUE(std::equal(prefix->begin(), prefix->end(), tag->body.begin()));
      }
    }
    if (tag->header.type == TagType::audio) {
      auto body = parse_audio_tag_body(tag->body);
      ASSERT_TRUE(body.ok()) << body.error().message;
      EXPECT_TRUE(body->is_aac());
      if (body->aac_packet_type == AacPacketType::raw) {
        ++audio;
        auto packet = audio_packet_from_tag(*body, tag->header.timestamp_ms);
        ASSERT_TRUE(packet.ok());
        auto prefix = audio_tag_prefix(*packet);
        ASSERT_TRUE(prefix.ok());
        EXPECT_TRUE(std::equal(prefix->begin(), prefix->end(), tag->body.begin()));
      }
    }
    rest = rest.subspan(tag->size());
  }
  EXPECT_EQ(script, 1);     // onMetaData
  EXPECT_EQ(video, 20);     // 0.8 s at 25 fps
  EXPECT_EQ(keyframes, 2);  // GOP of 10
  EXPECT_GT(nonzero_cts, 0);
  EXPECT_GT(audio, 30);
}

TEST(FlvTag, ExtendedTimestampAndSizeRoundTrip) {
  TagHeader h;
  h.type = TagType::audio;
  h.data_size = 0x123456;
  h.timestamp_ms = 0x7A123456;  // needs TimestampExtended
  auto bytes = serialize_tag_header(h);
  EXPECT_EQ(bytes[7], 0x7A);
  auto back = parse_tag_header(bytes);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->type, TagType::audio);
  EXPECT_EQ(back->data_size, 0x123456u);
  EXPECT_EQ(back->timestamp_ms, 0x7A123456);
}

TEST(FlvTag, RejectsTruncationBadTypeAndWrongPreviousTagSize) {
  TagHeader h;
  h.type = TagType::video;
  h.data_size = 3;
  auto header = serialize_tag_header(h);
  std::vector<uint8_t> tag(header.begin(), header.end());
  tag.insert(tag.end(), {0x17, 0x01, 0x00});
  auto pts = serialize_previous_tag_size(14);
  tag.insert(tag.end(), pts.begin(), pts.end());
  EXPECT_TRUE(parse_tag(tag).ok());
  for (size_t n = 0; n < tag.size(); ++n)
    EXPECT_FALSE(parse_tag(std::span<const uint8_t>(tag).first(n)).ok()) << n;
  auto wrong = tag;
  wrong.back() = 15;
  EXPECT_FALSE(parse_tag(wrong).ok());
  wrong = tag;
  wrong[0] = 7;
  EXPECT_FALSE(parse_tag(wrong).ok());
}

TEST(VideoTag, CompositionTimeIsSigned24Bit) {
  auto prefix = serialize_avc_video_prefix(VideoFrameType::inter, AvcPacketType::nalu, -40);
  EXPECT_EQ(prefix[0], 0x27);
  EXPECT_EQ(prefix[2], 0xFF);
  auto body = parse_video_tag_body(prefix);
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(body->composition_time_ms, -40);
  EXPECT_TRUE(body->data.empty());
  // Clamped, not wrapped.
  auto big = parse_video_tag_body(serialize_avc_video_prefix(VideoFrameType::key, AvcPacketType::nalu, 1 << 30));
  EXPECT_EQ(big->composition_time_ms, kMaxCompositionTimeMs);
}

TEST(VideoTag, PrefixFromPacketUsesItsTimeBase) {
  Packet p;
  p.kind = MediaKind::video;
  p.codec = Codec::h264;
  p.keyframe = true;
  p.time_base = k90kHz;
  p.dts = 90000;
  p.pts = 90000 + 7200;  // 80 ms later
  auto prefix = video_tag_prefix(p);
  ASSERT_TRUE(prefix.ok());
  EXPECT_EQ(*prefix, (std::array<uint8_t, 5>{0x17, 0x01, 0x00, 0x00, 80}));
  EXPECT_EQ(avc_sequence_header_prefix(), (std::array<uint8_t, 5>{0x17, 0x00, 0, 0, 0}));
  p.codec = Codec::hevc;
  EXPECT_FALSE(video_tag_prefix(p).ok());
}

TEST(VideoTag, RejectsMalformedBodies) {
  EXPECT_FALSE(parse_video_tag_body({}).ok());
  EXPECT_FALSE(parse_video_tag_body(std::vector<uint8_t>{0x17, 0x01, 0x00}).ok());  // short AVC prefix
  EXPECT_FALSE(parse_video_tag_body(std::vector<uint8_t>{0x07, 0x01, 0, 0, 0}).ok());  // frame type 0
  EXPECT_FALSE(parse_video_tag_body(std::vector<uint8_t>{0x17, 0x03, 0, 0, 0}).ok());  // AVCPacketType 3
  EXPECT_FALSE(parse_video_tag_body(std::vector<uint8_t>{0x90, 'h', 'v', 'c', '1'}).ok());  // Enhanced RTMP
  const std::vector<uint8_t> vp6_bytes = {0x24, 0xAA};  // non-AVC: 1-byte header
  auto vp6 = parse_video_tag_body(vp6_bytes);
  ASSERT_TRUE(vp6.ok());
  EXPECT_EQ(vp6->codec_id, VideoCodecId::vp6);
  EXPECT_EQ(vp6->data.size(), 1u);
  EXPECT_FALSE(video_packet_from_tag(*vp6, 0).ok());
}

TEST(AudioTag, AacPrefixIsAlways0xAF) {
  EXPECT_EQ(serialize_aac_audio_prefix(AacPacketType::sequence_header), (std::array<uint8_t, 2>{0xAF, 0x00}));
  const std::vector<uint8_t> bytes = {0xAF, 0x01, 0x21, 0x10};  // outlives the spans into it
  auto body = parse_audio_tag_body(bytes);
  ASSERT_TRUE(body.ok());
  EXPECT_TRUE(body->is_aac());
  EXPECT_EQ(body->rate_index, 3);
  EXPECT_TRUE(body->stereo);
  EXPECT_EQ(body->aac_packet_type, AacPacketType::raw);
  EXPECT_EQ(body->data.size(), 2u);
  auto packet = audio_packet_from_tag(*body, 1234);
  ASSERT_TRUE(packet.ok());
  EXPECT_EQ(packet->dts, 1234);
  EXPECT_TRUE(packet->keyframe);
}

TEST(AudioTag, RejectsMalformedBodies) {
  EXPECT_FALSE(parse_audio_tag_body({}).ok());
  EXPECT_FALSE(parse_audio_tag_body(std::vector<uint8_t>{0xAF}).ok());
  EXPECT_FALSE(parse_audio_tag_body(std::vector<uint8_t>{0xAF, 0x02}).ok());
  const std::vector<uint8_t> mp3_bytes = {0x2F, 0x11};
  auto mp3 = parse_audio_tag_body(mp3_bytes);
  ASSERT_TRUE(mp3.ok());
  EXPECT_EQ(mp3->format, SoundFormat::mp3);
  EXPECT_FALSE(audio_packet_from_tag(*mp3, 0).ok());
}

}  // namespace
}  // namespace anchorcast::flv
