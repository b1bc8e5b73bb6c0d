// Enhanced RTMP video tag bodies. The bytes are built by hand from the veovera
// enhanced-rtmp v1 spec, "Defining Additional Video Codecs", Table 4 (ExVideoTagHeader +
// VideoTagBody); the command frame from the v2 "ExVideoTagHeader Section" pseudocode.
// First byte: UB[1] IsExHeader | UB[3] FrameType | UB[4] PacketType; then the UI32 FourCC.
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "relay/protocol/flv/ex_video_tag.hpp"
#include "relay/protocol/flv/video_tag.hpp"

namespace anchorcast::flv {
namespace {

std::vector<uint8_t> concat(std::span<const uint8_t> a, std::span<const uint8_t> b) {
  std::vector<uint8_t> out(a.begin(), a.end());
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

TEST(ExVideoTag, FourCcIsBigEndianAscii) {
  // Enhancing onMetaData: "'av01' == 0x61763031".
  EXPECT_EQ(kFourCcAv1, 0x61763031u);
  EXPECT_EQ(kFourCcHevc, 0x68766331u);
  EXPECT_EQ(fourcc_name(kFourCcHevc), "'hvc1'");
  EXPECT_EQ(fourcc_name(0x00010203), "0x00010203");
}

TEST(ExVideoTag, ParsesHevcSequenceStart) {
  // Table 4: IsExHeader 1, FrameType 1 (key), PacketType 0 (SequenceStart); FourCC hvc1;
  // VideoTagBody "DATA = [HEVCDecoderConfigurationRecord]" (its first bytes here).
  const std::vector<uint8_t> bytes = {0x90, 'h', 'v', 'c', '1', 0x01, 0x01, 0x60};
  auto v = parse_ex_video_tag_body(bytes);
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(v->frame_type, VideoFrameType::key);
  EXPECT_EQ(v->packet_type, ExVideoPacketType::sequence_start);
  EXPECT_EQ(v->fourcc, kFourCcHevc);
  EXPECT_TRUE(v->is_hevc());
  EXPECT_TRUE(v->has_known_fourcc());
  EXPECT_TRUE(v->is_keyframe());
  EXPECT_FALSE(v->is_coded_frames());
  EXPECT_EQ(v->composition_time_ms, 0);
  ASSERT_EQ(v->data.size(), 3u);
  EXPECT_EQ(v->data.data(), bytes.data() + 5);  // points into the input
}

TEST(ExVideoTag, ParsesHevcCodedFramesWithCompositionTime) {
  // Table 4: FrameType 1 (key), PacketType 1 (CodedFrames); hvc1 CodedFrames:
  // "SI24 = [CompositionTime Offset]" (80 ms), then "DATA = [HEVC NALU]" (length-prefixed).
  const std::vector<uint8_t> bytes = {0x91, 'h', 'v', 'c', '1', 0x00, 0x00, 0x50, 0, 0, 0, 2, 0x26, 0x01};
  auto v = parse_ex_video_tag_body(bytes);
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(v->packet_type, ExVideoPacketType::coded_frames);
  EXPECT_TRUE(v->is_coded_frames());
  EXPECT_EQ(v->composition_time_ms, 80);
  ASSERT_EQ(v->data.size(), 6u);
  EXPECT_EQ(v->data[5], 0x01);
}

TEST(ExVideoTag, CompositionTimeIsSigned24Bit) {
  // FrameType 2 (inter), PacketType 1: SI24 0xFFFFD8 = -40.
  const std::vector<uint8_t> negative = {0xA1, 'h', 'v', 'c', '1', 0xFF, 0xFF, 0xD8};
  EXPECT_EQ(parse_ex_video_tag_body(negative)->composition_time_ms, -40);
  const std::vector<uint8_t> most_negative = {0xA1, 'h', 'v', 'c', '1', 0x80, 0x00, 0x00};
  EXPECT_EQ(parse_ex_video_tag_body(most_negative)->composition_time_ms, kMinCompositionTimeMs);
  const std::vector<uint8_t> most_positive = {0xA1, 'h', 'v', 'c', '1', 0x7F, 0xFF, 0xFF};
  EXPECT_EQ(parse_ex_video_tag_body(most_positive)->composition_time_ms, kMaxCompositionTimeMs);
}

TEST(ExVideoTag, CodedFramesXHasNoCompositionTime) {
  // Table 4, PacketType 3 (CodedFramesX): "CompositionTime Offset is implied to equal
  // zero", so the NAL units start right after the FourCC.
  const std::vector<uint8_t> bytes = {0xA3, 'h', 'v', 'c', '1', 0, 0, 0, 2, 0x02, 0x01};
  auto v = parse_ex_video_tag_body(bytes);
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(v->frame_type, VideoFrameType::inter);
  EXPECT_EQ(v->packet_type, ExVideoPacketType::coded_frames_x);
  EXPECT_TRUE(v->is_coded_frames());
  EXPECT_EQ(v->composition_time_ms, 0);
  EXPECT_EQ(v->data.size(), 6u);
}

TEST(ExVideoTag, ParsesSequenceEnd) {
  // Table 4, PacketType 2 (SequenceEnd): "signals end of sequence", no data.
  const std::vector<uint8_t> bytes = {0x92, 'h', 'v', 'c', '1'};
  auto v = parse_ex_video_tag_body(bytes);
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(v->packet_type, ExVideoPacketType::sequence_end);
  EXPECT_TRUE(v->data.empty());
}

TEST(ExVideoTag, MetadataIsAmfAndIgnoresFrameType) {
  // Table 4, PacketType 4 (Metadata): the FrameType bits "should be ignored" (0 here,
  // reserved elsewhere); the body is AMF: the string "colorInfo" then an object.
  const std::vector<uint8_t> bytes = {0x84, 'h', 'v', 'c', '1', 0x02, 0x00, 0x09, 'c', 'o', 'l', 'o', 'r',
                                      'I',  'n', 'f', 'o', 0x03, 0x00, 0x00, 0x09};
  auto v = parse_ex_video_tag_body(bytes);
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(v->packet_type, ExVideoPacketType::metadata);
  EXPECT_FALSE(v->is_keyframe());
  EXPECT_EQ(v->fourcc, kFourCcHevc);
  EXPECT_EQ(v->data.size(), bytes.size() - 5);
  EXPECT_EQ(v->data[0], 0x02);  // AMF0 string marker
  // FrameType 5 with Metadata is metadata, not a command frame: it has a FourCC.
  const std::vector<uint8_t> info = {0xD4, 'h', 'v', 'c', '1', 0x05};
  auto m = parse_ex_video_tag_body(info);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_FALSE(m->is_command());
  EXPECT_EQ(m->fourcc, kFourCcHevc);
  EXPECT_EQ(m->data.size(), 1u);
}

TEST(ExVideoTag, ParsesMpeg2TsSequenceStart) {
  // Table 4, PacketType 5 (MPEG2TSSequenceStart) for AV1: "DATA = [AV1VideoDescriptor]".
  const std::vector<uint8_t> bytes = {0x95, 'a', 'v', '0', '1', 0x80, 0x04, 0x81, 0x08, 0x0C, 0x00};
  auto v = parse_ex_video_tag_body(bytes);
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(v->packet_type, ExVideoPacketType::mpeg2ts_sequence_start);
  EXPECT_EQ(v->fourcc, kFourCcAv1);
  EXPECT_EQ(v->data.size(), 6u);
}

TEST(ExVideoTag, OnlyHevcAndAvcCodedFramesCarryACompositionTime) {
  // Table 4: av01 and vp09 CodedFrames are "DATA = [Series of coded frames]", no SI24.
  const std::vector<uint8_t> av1 = {0x91, 'a', 'v', '0', '1', 0x12, 0x00, 0x0A};
  auto a = parse_ex_video_tag_body(av1);
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->composition_time_ms, 0);
  EXPECT_EQ(a->data.size(), 3u);
  const std::vector<uint8_t> vp9 = {0xA1, 'v', 'p', '0', '9', 0x86};
  EXPECT_EQ(parse_ex_video_tag_body(vp9)->data.size(), 1u);
  // v2 ExVideoTagBody: avc1 CodedFrames carry it like hvc1.
  const std::vector<uint8_t> avc = {0x91, 'a', 'v', 'c', '1', 0x00, 0x00, 0x28, 0x65};
  auto h264 = parse_ex_video_tag_body(avc);
  ASSERT_TRUE(h264.ok()) << h264.error().message;
  EXPECT_EQ(h264->composition_time_ms, 40);
  EXPECT_EQ(h264->data.size(), 1u);
  // v1 Table 4: SequenceStart has no composition time, whatever the codec.
  EXPECT_FALSE(carries_composition_time(kFourCcHevc, ExVideoPacketType::sequence_start));
}

TEST(ExVideoTag, UnknownFourCcParsesButIsFlagged) {
  const std::vector<uint8_t> bytes = {0x91, 'v', 'v', 'c', '9', 0xAA, 0xBB};
  auto v = parse_ex_video_tag_body(bytes);
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_FALSE(v->has_known_fourcc());
  EXPECT_EQ(fourcc_name(v->fourcc), "'vvc9'");
  EXPECT_EQ(v->composition_time_ms, 0);  // layout unknown: everything after the FourCC
  EXPECT_EQ(v->data.size(), 2u);
}

TEST(ExVideoTag, CommandFrameCarriesAUi8AndNoMedia) {
  // v2 ExVideoTagHeader Section: FrameType 5 (command) and PacketType != Metadata:
  // "videoCommand = UI8", no FourCC, "ExVideoTagBody has no payload".
  const std::vector<uint8_t> end_seek = {0xD0, 0x01};
  auto v = parse_ex_video_tag_body(end_seek);
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_TRUE(v->is_command());
  EXPECT_FALSE(v->is_keyframe());
  EXPECT_EQ(v->command, static_cast<uint8_t>(VideoCommand::end_seek));
  EXPECT_EQ(v->fourcc, 0u);
  EXPECT_TRUE(v->data.empty());
  EXPECT_FALSE(parse_ex_video_tag_body(std::vector<uint8_t>{0xD1}).ok());
}

TEST(ExVideoTag, RefusesV2MultitrackAndModExByName) {
  // v2 VideoPacketType: Multitrack 6, ModEx 7.
  auto multitrack = parse_ex_video_tag_body(std::vector<uint8_t>{0x96, 0x00, 'h', 'v', 'c', '1', 0x00});
  ASSERT_FALSE(multitrack.ok());
  EXPECT_NE(multitrack.error().message.find("Multitrack"), std::string::npos) << multitrack.error().message;
  auto mod_ex = parse_ex_video_tag_body(std::vector<uint8_t>{0x97, 0x00, 0x00, 0x00, 0x00, 'h', 'v', 'c', '1'});
  ASSERT_FALSE(mod_ex.ok());
  EXPECT_NE(mod_ex.error().message.find("ModEx"), std::string::npos) << mod_ex.error().message;
  for (uint8_t reserved = 8; reserved < 16; ++reserved) {
    const std::vector<uint8_t> bytes = {static_cast<uint8_t>(0x90 | reserved), 'h', 'v', 'c', '1', 0, 0, 0};
    auto v = parse_ex_video_tag_body(bytes);
    ASSERT_FALSE(v.ok()) << int{reserved};
    EXPECT_NE(v.error().message.find("reserved"), std::string::npos) << v.error().message;
  }
}

TEST(ExVideoTag, RefusesReservedFrameTypes) {
  // Table 4 FrameType: 0, 6 and 7 are reserved.
  for (uint8_t frame_type : {0, 6, 7}) {
    const auto first = static_cast<uint8_t>(0x80 | frame_type << 4 | 0x01);  // PacketType 1
    const std::vector<uint8_t> bytes = {first, 'h', 'v', 'c', '1', 0, 0, 0};
    EXPECT_FALSE(parse_ex_video_tag_body(bytes).ok()) << int{frame_type};
  }
}

TEST(ExVideoTag, RefusesEveryTruncationOfTheHeader) {
  struct Case {
    std::vector<uint8_t> bytes;
    size_t header_size;
  };
  const std::vector<Case> cases = {
      {{0x91, 'h', 'v', 'c', '1', 0x00, 0x00, 0x50, 0, 0, 0, 1, 0x26}, 8},  // CodedFrames + SI24
      {{0xA3, 'h', 'v', 'c', '1', 0, 0, 0, 1, 0x02}, 5},                    // CodedFramesX
      {{0x90, 'h', 'v', 'c', '1', 0x01, 0x01}, 5},                          // SequenceStart
      {{0x92, 'h', 'v', 'c', '1'}, 5},                                      // SequenceEnd
      {{0x84, 'h', 'v', 'c', '1', 0x05}, 5},                                // Metadata
      {{0x91, 'a', 'v', '0', '1', 0x12, 0x00}, 5},                          // AV1 CodedFrames, no SI24
      {{0xD0, 0x00}, 2},                                                    // command
  };
  for (const Case& c : cases) {
    const std::span<const uint8_t> whole(c.bytes);
    for (size_t n = 0; n <= whole.size(); ++n) {
      auto v = parse_ex_video_tag_body(whole.first(n));
      if (n < c.header_size) {
        EXPECT_FALSE(v.ok()) << "byte0 " << int{c.bytes[0]} << " length " << n;
      } else {
        ASSERT_TRUE(v.ok()) << "byte0 " << int{c.bytes[0]} << " length " << n << ": " << v.error().message;
        EXPECT_EQ(v->data.size(), n - c.header_size);
      }
    }
  }
}

TEST(ExVideoTag, HevcPrefixUsesCodedFramesXOnlyWhenTheCompositionTimeIsZero) {
  auto key = serialize_hevc_coded_frames_prefix(true, 80);
  const std::vector<uint8_t> key_bytes = {0x91, 'h', 'v', 'c', '1', 0x00, 0x00, 0x50};
  EXPECT_EQ(std::vector<uint8_t>(key.bytes().begin(), key.bytes().end()), key_bytes);
  auto inter = serialize_hevc_coded_frames_prefix(false, 0);
  const std::vector<uint8_t> inter_bytes = {0xA3, 'h', 'v', 'c', '1'};
  EXPECT_EQ(std::vector<uint8_t>(inter.bytes().begin(), inter.bytes().end()), inter_bytes);
  auto negative = serialize_hevc_coded_frames_prefix(false, -40);
  const std::vector<uint8_t> negative_bytes = {0xA1, 'h', 'v', 'c', '1', 0xFF, 0xFF, 0xD8};
  EXPECT_EQ(std::vector<uint8_t>(negative.bytes().begin(), negative.bytes().end()), negative_bytes);
  EXPECT_EQ(hevc_sequence_start_prefix(), (std::array<uint8_t, 5>{0x90, 'h', 'v', 'c', '1'}));
  EXPECT_EQ(hevc_sequence_end_prefix(), (std::array<uint8_t, 5>{0x92, 'h', 'v', 'c', '1'}));
}

TEST(ExVideoTag, WriterRoundTripsThroughTheParser) {
  const std::vector<uint8_t> payload = {0, 0, 0, 3, 0x26, 0x01, 0xAF};
  for (bool keyframe : {true, false}) {
    for (int32_t cts : {0, 1, -1, 80, -40, kMaxCompositionTimeMs, kMinCompositionTimeMs, 1 << 30, -(1 << 30)}) {
      const auto prefix = serialize_hevc_coded_frames_prefix(keyframe, cts);
      const auto body = concat(prefix.bytes(), payload);
      auto v = parse_ex_video_tag_body(body);
      ASSERT_TRUE(v.ok()) << v.error().message;
      EXPECT_EQ(v->is_keyframe(), keyframe);
      EXPECT_TRUE(v->is_hevc());
      EXPECT_TRUE(v->is_coded_frames());
      // Clamped to the SI24 range, not wrapped.
      EXPECT_EQ(v->composition_time_ms, std::clamp(cts, kMinCompositionTimeMs, kMaxCompositionTimeMs)) << cts;
      EXPECT_EQ(v->packet_type, cts == 0 ? ExVideoPacketType::coded_frames_x : ExVideoPacketType::coded_frames);
      EXPECT_TRUE(std::equal(v->data.begin(), v->data.end(), payload.begin(), payload.end()));
    }
  }
  const std::vector<uint8_t> hvcc = {0x01, 0x01, 0x60, 0x00};
  auto start = parse_ex_video_tag_body(concat(hevc_sequence_start_prefix(), hvcc));
  ASSERT_TRUE(start.ok());
  EXPECT_EQ(start->packet_type, ExVideoPacketType::sequence_start);
  EXPECT_TRUE(start->is_keyframe());
  EXPECT_EQ(start->data.size(), hvcc.size());
  auto end = parse_ex_video_tag_body(hevc_sequence_end_prefix());
  ASSERT_TRUE(end.ok());
  EXPECT_EQ(end->packet_type, ExVideoPacketType::sequence_end);
}

TEST(ExVideoTag, PrefixFromPacketUsesItsTimeBase) {
  Packet p;
  p.kind = MediaKind::video;
  p.codec = Codec::hevc;
  p.keyframe = true;
  p.time_base = k90kHz;
  p.dts = 90000;
  p.pts = 90000 + 7200;  // 80 ms later
  auto prefix = ex_video_tag_prefix(p);
  ASSERT_TRUE(prefix.ok()) << prefix.error().message;
  const std::vector<uint8_t> expected = {0x91, 'h', 'v', 'c', '1', 0x00, 0x00, 0x50};
  EXPECT_EQ(std::vector<uint8_t>(prefix->bytes().begin(), prefix->bytes().end()), expected);
  p.pts = p.dts;
  EXPECT_EQ(ex_video_tag_prefix(p)->size, kExVideoHeaderSize);  // CodedFramesX
  p.codec = Codec::h264;
  EXPECT_FALSE(ex_video_tag_prefix(p).ok());
}

TEST(ExVideoTag, LegacyBodiesStayWithTheLegacyParser) {
  // E.4.3.1: key frame, CodecID 7 (AVC), AVCPacketType 1 (NALU), CompositionTime 80.
  const std::vector<uint8_t> avc = {0x17, 0x01, 0x00, 0x00, 0x50, 0, 0, 0, 1, 0x65};
  EXPECT_FALSE(is_ex_video_tag_body(avc));
  EXPECT_FALSE(parse_ex_video_tag_body(avc).ok());
  auto legacy = parse_video_tag_body(avc);
  ASSERT_TRUE(legacy.ok()) << legacy.error().message;
  EXPECT_TRUE(legacy->is_avc());
  EXPECT_TRUE(legacy->is_keyframe());
  EXPECT_EQ(legacy->avc_packet_type, AvcPacketType::nalu);
  EXPECT_EQ(legacy->composition_time_ms, 80);
  EXPECT_EQ(legacy->data.size(), 5u);
  // And the legacy parser refuses an enhanced body, naming its codec.
  const std::vector<uint8_t> hevc = {0x91, 'h', 'v', 'c', '1', 0x00, 0x00, 0x50, 0x26};
  EXPECT_TRUE(is_ex_video_tag_body(hevc));
  auto refused = parse_video_tag_body(hevc);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("'hvc1'"), std::string::npos) << refused.error().message;
}

TEST(ExVideoTag, TellsV2PacketTypesFromMalformedBodies) {
  EXPECT_TRUE(uses_v2_packet_type(std::vector<uint8_t>{0x96, 0x00}));  // Multitrack
  EXPECT_TRUE(uses_v2_packet_type(std::vector<uint8_t>{0x97}));        // ModEx
  EXPECT_FALSE(uses_v2_packet_type(std::vector<uint8_t>{0x98, 'h', 'v', 'c', '1'}));  // reserved 8
  EXPECT_FALSE(uses_v2_packet_type(std::vector<uint8_t>{0x91, 'h', 'v', 'c', '1'}));
  EXPECT_FALSE(uses_v2_packet_type(std::vector<uint8_t>{0x16}));  // legacy: CodecID 6
  EXPECT_FALSE(uses_v2_packet_type(std::vector<uint8_t>{}));
}

// Two NAL units (an IDR_N_LP slice header and a TRAIL_R one: types 20 and 1), framed
// with `length_size`-byte lengths.
std::vector<uint8_t> two_units(int length_size) {
  const std::vector<std::vector<uint8_t>> units = {{0x28, 0x01, 0xaf, 0x1d, 0x20}, {0x02, 0x01, 0xd0}};
  std::vector<uint8_t> out;
  for (const auto& u : units) {
    for (int i = length_size - 1; i >= 0; --i) out.push_back(static_cast<uint8_t>(u.size() >> (8 * i)));
    out.insert(out.end(), u.begin(), u.end());
  }
  return out;
}

TEST(ExVideoTag, HevcPacketKeepsTheMessageWhenLengthsAreFourBytes) {
  // Table 4: key, CodedFrames, hvc1, CompositionTime 67 ms, then the NAL units.
  const std::vector<uint8_t> au = two_units(4);
  std::vector<uint8_t> message = concat(serialize_hevc_coded_frames_prefix(true, 67).bytes(), au);
  auto tag = parse_ex_video_tag_body(message);
  ASSERT_TRUE(tag.ok()) << tag.error().message;
  const uint8_t* storage = message.data();
  auto p = hevc_packet_from_ex_tag(*tag, 1000, 4, std::move(message));
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->kind, MediaKind::video);
  EXPECT_EQ(p->codec, Codec::hevc);
  EXPECT_TRUE(p->keyframe);
  EXPECT_EQ(p->time_base, kMillis);
  EXPECT_EQ(p->dts, 1000);
  EXPECT_EQ(p->pts, 1067);
  EXPECT_EQ(p->payload.data(), storage);  // the message itself, not a copy
  EXPECT_EQ(p->payload_offset, kExVideoPrefixMaxSize);
  EXPECT_TRUE(std::ranges::equal(p->bytes(), au));
}

TEST(ExVideoTag, HevcPacketFromCodedFramesXHasPtsEqualToDts) {
  const std::vector<uint8_t> au = two_units(4);
  std::vector<uint8_t> message = concat(serialize_hevc_coded_frames_prefix(false, 0).bytes(), au);
  auto tag = parse_ex_video_tag_body(message);
  ASSERT_TRUE(tag.ok());
  auto p = hevc_packet_from_ex_tag(*tag, 40, 4, std::move(message));
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_FALSE(p->keyframe);
  EXPECT_EQ(p->pts, 40);
  EXPECT_EQ(p->payload_offset, kExVideoHeaderSize);
  EXPECT_TRUE(std::ranges::equal(p->bytes(), au));
}

TEST(ExVideoTag, HevcPacketRewritesShortNalLengthsToFourBytes) {
  // ISO 14496-15 8.3.3.1.2: lengthSizeMinusOne 0 or 1; the Packet contract wants 4.
  for (int length_size : {1, 2}) {
    SCOPED_TRACE(length_size);
    const std::vector<uint8_t> message = concat(serialize_hevc_coded_frames_prefix(true, 0).bytes(),
                                                two_units(length_size));
    auto tag = parse_ex_video_tag_body(message);
    ASSERT_TRUE(tag.ok());
    auto p = hevc_packet_from_ex_tag(*tag, 0, length_size, std::vector<uint8_t>(message));
    ASSERT_TRUE(p.ok()) << p.error().message;
    EXPECT_EQ(p->payload_offset, 0u);
    EXPECT_TRUE(std::ranges::equal(p->bytes(), two_units(4)));
  }
}

TEST(ExVideoTag, HevcPacketRefusesLengthsPastTheEndAndOtherBodies) {
  // A 2-byte length claiming 9 bytes where 5 follow.
  std::vector<uint8_t> message = concat(serialize_hevc_coded_frames_prefix(true, 0).bytes(),
                                        std::vector<uint8_t>{0x00, 0x09, 0x28, 0x01, 0xaf, 0x1d, 0x20});
  auto tag = parse_ex_video_tag_body(message);
  ASSERT_TRUE(tag.ok());
  auto bad = hevc_packet_from_ex_tag(*tag, 0, 2);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("claims 9 bytes"), std::string::npos) << bad.error().message;
  EXPECT_FALSE(hevc_packet_from_ex_tag(*tag, 0, 3).ok());  // 14496-15 has no 3-byte lengths

  auto start = parse_ex_video_tag_body(std::vector<uint8_t>{0x90, 'h', 'v', 'c', '1', 0x01});
  ASSERT_TRUE(start.ok());
  EXPECT_FALSE(hevc_packet_from_ex_tag(*start, 0, 4).ok());  // a SequenceStart is a track, not a packet
  auto av1 = parse_ex_video_tag_body(std::vector<uint8_t>{0x91, 'a', 'v', '0', '1', 0x12, 0x00});
  ASSERT_TRUE(av1.ok());
  auto refused = hevc_packet_from_ex_tag(*av1, 0, 4);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("'av01'"), std::string::npos) << refused.error().message;
}

}  // namespace
}  // namespace anchorcast::flv
