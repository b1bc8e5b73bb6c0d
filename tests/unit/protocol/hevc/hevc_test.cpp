#include <gtest/gtest.h>

#include "hevc_record.hpp"
#include "relay/protocol/hevc/hevc_decoder_config.hpp"
#include "relay/protocol/hevc/nal_unit.hpp"
#include "relay/protocol/hevc/sps.hpp"

namespace anchorcast::hevc {
namespace {

using fixtures::kHvcc240p;
using fixtures::kPps240p;
using fixtures::kSps240p;
using fixtures::kVps240p;

using Bytes = std::vector<uint8_t>;

// Same, with size=1920x1080, -t 0.2 and x265-params log-level=error:info=0:min-cu-size=16:
// 1080 is no multiple of 16, so the SPS codes 1920x1088 with conf_win_bottom_offset 4
// (chroma rows, 8 luma rows). Level 4 (120).
const Bytes kHvcc1080p = {
    0x01, 0x01, 0x60, 0x00, 0x00, 0x00, 0x90, 0x00, 0x00, 0x00, 0x00, 0x00, 0x78, 0xf0, 0x00, 0xfc,
    0xfd, 0xf8, 0xf8, 0x00, 0x00, 0x0f, 0x03, 0x20, 0x00, 0x01, 0x00, 0x18, 0x40, 0x01, 0x0c, 0x01,
    0xff, 0xff, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00, 0x00, 0x03, 0x00, 0x00, 0x03, 0x00,
    0x78, 0x95, 0x98, 0x09, 0x21, 0x00, 0x01, 0x00, 0x2b, 0x42, 0x01, 0x01, 0x01, 0x60, 0x00, 0x00,
    0x03, 0x00, 0x90, 0x00, 0x00, 0x03, 0x00, 0x00, 0x03, 0x00, 0x78, 0xa0, 0x03, 0xc0, 0x80, 0x11,
    0x07, 0xcb, 0x96, 0x56, 0x64, 0xe4, 0xca, 0xf0, 0x16, 0x80, 0x80, 0x00, 0x00, 0x03, 0x00, 0x80,
    0x00, 0x00, 0x0c, 0x84, 0x22, 0x00, 0x01, 0x00, 0x07, 0x44, 0x01, 0xc1, 0x72, 0xb4, 0x62, 0x40};
const Bytes kVps1080p(kHvcc1080p.begin() + 28, kHvcc1080p.begin() + 52);
const Bytes kSps1080p(kHvcc1080p.begin() + 57, kHvcc1080p.begin() + 100);
const Bytes kPps1080p(kHvcc1080p.begin() + 105, kHvcc1080p.end());

// Same as kHvcc240p with -t 0.2 -pix_fmt yuv420p10le: Main 10 (2), 10-bit luma and chroma.
const Bytes kHvcc240pMain10 = {
    0x01, 0x02, 0x20, 0x00, 0x00, 0x00, 0x90, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3c, 0xf0, 0x00, 0xfc,
    0xfd, 0xfa, 0xfa, 0x00, 0x00, 0x0f, 0x03, 0x20, 0x00, 0x01, 0x00, 0x18, 0x40, 0x01, 0x0c, 0x01,
    0xff, 0xff, 0x02, 0x20, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00, 0x00, 0x03, 0x00, 0x00, 0x03, 0x00,
    0x3c, 0x95, 0x98, 0x09, 0x21, 0x00, 0x01, 0x00, 0x2a, 0x42, 0x01, 0x01, 0x02, 0x20, 0x00, 0x00,
    0x03, 0x00, 0x90, 0x00, 0x00, 0x03, 0x00, 0x00, 0x03, 0x00, 0x3c, 0xa0, 0x0a, 0x08, 0x0f, 0x13,
    0x65, 0x95, 0x9a, 0x49, 0x32, 0xbc, 0x05, 0xa0, 0x20, 0x00, 0x00, 0x03, 0x00, 0x20, 0x00, 0x00,
    0x03, 0x03, 0x21, 0x22, 0x00, 0x01, 0x00, 0x07, 0x44, 0x01, 0xc1, 0x72, 0xb4, 0x62, 0x40};
const Bytes kSps240pMain10(kHvcc240pMain10.begin() + 57, kHvcc240pMain10.begin() + 99);

// The first 16 bytes of the first IDR_N_LP slice (type 20) and the first 8 of the first
// TRAIL_R slice (type 1) of the 320x240 stream, taken from
//   ffmpeg -i 320x240.mp4 -c:v copy -bsf:v hevc_mp4toannexb -f hevc 320x240.hevc
// Only their headers matter to the walk.
const Bytes kIdrSliceStart = {0x28, 0x01, 0xaf, 0x1d, 0x20, 0xbd, 0x90, 0xbd,
                              0xe1, 0x2c, 0x62, 0x7c, 0x25, 0xcc, 0x3d, 0x0d};
const Bytes kTrailSliceStart = {0x02, 0x01, 0xd0, 0x29, 0x4b, 0xe1, 0x0c, 0x63};

// NAL units behind 4-byte lengths, as in an hvcC-framed access unit.
Bytes length_prefixed(std::initializer_list<const Bytes*> nals) {
  Bytes out;
  for (const Bytes* nal : nals) {
    const auto n = static_cast<uint32_t>(nal->size());
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(n >> shift));
    out.insert(out.end(), nal->begin(), nal->end());
  }
  return out;
}

Bytes cut(const Bytes& bytes, size_t n) { return Bytes(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n)); }

// MSB-first writer for hand-made SPSs: only this test needs one.
class BitWriter {
 public:
  // `n` may exceed 64 (a run of zero flags): the bits above the value's 64 are 0.
  void bits(uint64_t value, int n) {
    for (int i = n - 1; i >= 0; --i) bit(i < 64 ? (value >> i) & 1 : 0);
  }
  void ue(uint32_t value) {
    const uint64_t code = uint64_t{value} + 1;
    int len = 0;
    while ((code >> len) > 1) ++len;
    bits(0, len);
    bits(code, len + 1);
  }
  // rbsp_trailing_bits, then the bytes.
  Bytes finish() {
    bit(1);
    while (count_ % 8 != 0) bit(0);
    return bytes_;
  }

 private:
  void bit(uint64_t b) {
    if (count_ % 8 == 0) bytes_.push_back(0);
    bytes_.back() = static_cast<uint8_t>(bytes_.back() | b << (7 - count_ % 8));
    ++count_;
  }
  Bytes bytes_;
  size_t count_ = 0;
};

TEST(HevcNalUnit, ParsesHeaderFields) {
  auto vps = parse_nal_header(kVps240p);
  ASSERT_TRUE(vps.ok()) << vps.error().message;
  EXPECT_EQ(vps->type, NalType::vps);
  EXPECT_EQ(vps->layer_id, 0);
  EXPECT_EQ(vps->temporal_id, 0);
  // type 33, nuh_layer_id 33 (split across the two bytes), nuh_temporal_id_plus1 2.
  auto layered = parse_nal_header(Bytes{0x43, 0x0A});
  ASSERT_TRUE(layered.ok());
  EXPECT_EQ(layered->type, NalType::sps);
  EXPECT_EQ(layered->layer_id, 33);
  EXPECT_EQ(layered->temporal_id, 1);
  EXPECT_EQ(nal_type(kPps240p[0]), NalType::pps);
}

TEST(HevcNalUnit, RejectsShortUnitsForbiddenBitAndTemporalIdZero) {
  EXPECT_FALSE(parse_nal_header(Bytes{}).ok());
  EXPECT_FALSE(parse_nal_header(Bytes{0x40}).ok());
  EXPECT_FALSE(parse_nal_header(Bytes{0xC0, 0x01}).ok());  // forbidden_zero_bit
  EXPECT_FALSE(parse_nal_header(Bytes{0x40, 0x00}).ok());  // nuh_temporal_id_plus1 = 0
}

TEST(HevcNalUnit, IrapIsIdrCraAndBlaOnly) {
  for (auto t : {NalType::bla_w_lp, NalType::bla_w_radl, NalType::bla_n_lp, NalType::idr_w_radl, NalType::idr_n_lp,
                 NalType::cra})
    EXPECT_TRUE(is_irap(t)) << static_cast<int>(t);
  for (auto t : {NalType::trail_n, NalType::trail_r, NalType::vps, NalType::sps, NalType::pps, NalType::aud,
                 NalType::prefix_sei, NalType::suffix_sei})
    EXPECT_FALSE(is_irap(t)) << static_cast<int>(t);
  EXPECT_TRUE(is_vcl(NalType::cra));
  EXPECT_FALSE(is_vcl(NalType::vps));
}

TEST(HevcNalUnit, WalksLengthPrefixedAccessUnitAndFindsKeyframe) {
  const Bytes idr_au = length_prefixed({&kVps240p, &kSps240p, &kPps240p, &kIdrSliceStart});
  std::vector<NalType> types;
  auto walked = for_each_nal(idr_au, 4, [&](std::span<const uint8_t> nal) { types.push_back(nal_type(nal[0])); });
  ASSERT_TRUE(walked.ok()) << walked.error().message;
  EXPECT_EQ(types, (std::vector<NalType>{NalType::vps, NalType::sps, NalType::pps, NalType::idr_n_lp}));
  auto key = is_keyframe_access_unit(idr_au, 4);
  ASSERT_TRUE(key.ok());
  EXPECT_TRUE(*key);

  auto delta = is_keyframe_access_unit(length_prefixed({&kTrailSliceStart}), 4);
  ASSERT_TRUE(delta.ok());
  EXPECT_FALSE(*delta);
  // Parameter sets alone are no keyframe: it takes an IRAP slice.
  EXPECT_FALSE(*is_keyframe_access_unit(length_prefixed({&kVps240p, &kSps240p, &kPps240p}), 4));
}

TEST(HevcNalUnit, WalkFailsOnTruncatedOverlongOrHeaderlessUnits) {
  const Bytes au = length_prefixed({&kTrailSliceStart, &kIdrSliceStart});
  // Every cut inside the second unit's length or body.
  for (size_t n = 4 + kTrailSliceStart.size() + 1; n < au.size(); ++n)
    EXPECT_FALSE(is_keyframe_access_unit(cut(au, n), 4).ok()) << n;
  Bytes overlong = au;
  overlong[3] = 0xFF;  // the first unit claims 255 bytes
  EXPECT_FALSE(is_keyframe_access_unit(overlong, 4).ok());
  EXPECT_FALSE(is_keyframe_access_unit(Bytes{0, 0, 0, 1, 0x02}, 4).ok());       // 1-byte unit
  EXPECT_FALSE(is_keyframe_access_unit(Bytes{0, 0, 0, 2, 0x82, 0x01}, 4).ok());  // forbidden bit
  EXPECT_FALSE(is_keyframe_access_unit(Bytes{0, 2, 0x02, 0x01}, 3).ok());        // no 3-byte lengths
  // The walk stops at the bad unit: the IDR after it is not visited.
  const Bytes bad = {0, 0, 0, 2, 0x80, 0x01, 0, 0, 0, 2, 0x28, 0x01};
  int visited = 0;
  EXPECT_FALSE(for_each_nal(bad, 4, [&](auto) { ++visited; }).ok());
  EXPECT_EQ(visited, 0);
  // 2-byte lengths, as some hvcC records declare.
  EXPECT_TRUE(*is_keyframe_access_unit(Bytes{0, 2, 0x28, 0x01}, 2));
}

TEST(HevcSps, Parses320x240MainFromX265) {
  auto sps = parse_sps(kSps240p);
  ASSERT_TRUE(sps.ok()) << sps.error().message;
  EXPECT_EQ(sps->vps_id, 0);
  EXPECT_EQ(sps->max_sub_layers_minus1, 0);
  EXPECT_TRUE(sps->temporal_id_nesting);
  EXPECT_EQ(sps->profile_tier_level.profile_space, 0);
  EXPECT_FALSE(sps->profile_tier_level.tier_flag);
  EXPECT_EQ(sps->profile_tier_level.profile_idc, 1);
  EXPECT_EQ(sps->profile_tier_level.profile_compatibility_flags, 0x60000000u);  // flags [1] and [2]
  EXPECT_EQ(sps->profile_tier_level.constraint_indicator_flags, 0x900000000000u);  // progressive, frame only
  EXPECT_EQ(sps->profile_tier_level.level_idc, 60);
  EXPECT_EQ(sps->sps_id, 0u);
  EXPECT_EQ(sps->chroma_format_idc, 1u);
  EXPECT_EQ(sps->width, 320);
  EXPECT_EQ(sps->height, 240);
  EXPECT_EQ(sps->bit_depth_luma, 8u);
  EXPECT_EQ(sps->bit_depth_chroma, 8u);
}

TEST(HevcSps, CropsConformanceWindowFor1080p) {
  auto sps = parse_sps(kSps1080p);
  ASSERT_TRUE(sps.ok()) << sps.error().message;
  EXPECT_EQ(sps->coded_width, 1920u);
  EXPECT_EQ(sps->coded_height, 1088u);
  EXPECT_EQ(sps->width, 1920);
  EXPECT_EQ(sps->height, 1080);
  EXPECT_EQ(sps->profile_tier_level.level_idc, 120);
}

TEST(HevcSps, ReadsMain10BitDepths) {
  auto sps = parse_sps(kSps240pMain10);
  ASSERT_TRUE(sps.ok()) << sps.error().message;
  EXPECT_EQ(sps->profile_tier_level.profile_idc, 2);
  EXPECT_EQ(sps->bit_depth_luma, 10u);
  EXPECT_EQ(sps->bit_depth_chroma, 10u);
  EXPECT_EQ(sps->width, 320);
}

TEST(HevcSps, SkipsSubLayerProfileTierLevel) {
  // A hand-made SPS with three sub-layers (§7.3.3): sub-layer 0 has a profile, sub-layer 1
  // a level; 4:2:2, 1280x720 coded as 1280x736 with a window of 4 + 4 rows, 12-bit luma.
  BitWriter w;
  w.bits(0x4201, 16);  // SPS, layer 0, temporal_id_plus1 1
  w.bits(3, 4);        // sps_video_parameter_set_id
  w.bits(2, 3);        // sps_max_sub_layers_minus1
  w.bits(0, 1);        // sps_temporal_id_nesting_flag
  w.bits(0x04, 8);     // general: space 0, tier 0, profile_idc 4 (RExt)
  w.bits(0x08000000, 32);
  w.bits(0x123456789ABC, 48);
  w.bits(93, 8);       // general_level_idc
  w.bits(0b10, 2);     // sub-layer 0: profile present, level absent
  w.bits(0b01, 2);     // sub-layer 1: profile absent, level present
  w.bits(0, 2 * 6);    // reserved_zero_2bits for sub-layers 2..7
  w.bits(0xFFFFFFFFFFFFFFFF, 64);  // sub-layer 0 profile: 88 bits
  w.bits(0xFFFFFF, 24);
  w.bits(0xFF, 8);     // sub-layer 1 level
  w.ue(7);             // sps_seq_parameter_set_id
  w.ue(2);             // chroma_format_idc 4:2:2: SubWidthC 2, SubHeightC 1
  w.ue(1280);
  w.ue(736);
  w.bits(1, 1);        // conformance_window_flag
  w.ue(0);
  w.ue(0);
  w.ue(8);             // top: 8 luma rows
  w.ue(8);             // bottom
  w.ue(4);             // bit_depth_luma_minus8
  w.ue(2);
  auto sps = parse_sps(w.finish());
  ASSERT_TRUE(sps.ok()) << sps.error().message;
  EXPECT_EQ(sps->vps_id, 3);
  EXPECT_EQ(sps->max_sub_layers_minus1, 2);
  EXPECT_EQ(sps->profile_tier_level.profile_idc, 4);
  EXPECT_EQ(sps->profile_tier_level.constraint_indicator_flags, 0x123456789ABCu);
  EXPECT_EQ(sps->profile_tier_level.level_idc, 93);
  EXPECT_EQ(sps->sps_id, 7u);
  EXPECT_EQ(sps->chroma_format_idc, 2u);
  EXPECT_EQ(sps->width, 1280);
  EXPECT_EQ(sps->height, 720);
  EXPECT_EQ(sps->bit_depth_luma, 12u);
  EXPECT_EQ(sps->bit_depth_chroma, 10u);
}

TEST(HevcSps, RejectsOtherTypesLayersAndTruncation) {
  EXPECT_FALSE(parse_sps(kPps240p).ok());
  EXPECT_FALSE(parse_sps(kVps240p).ok());
  Bytes layered = kSps240p;
  layered[1] |= 0x08;  // nuh_layer_id 1
  EXPECT_FALSE(parse_sps(layered).ok());
  // The bit depths end in bit 159 of the RBSP, byte 23 of the NAL unit once its three
  // emulation prevention bytes count; every shorter cut loses a field.
  for (size_t n = 0; n < 23; ++n) EXPECT_FALSE(parse_sps(cut(kSps240p, n)).ok()) << n;
  EXPECT_TRUE(parse_sps(cut(kSps240p, 23)).ok());
}

TEST(HevcSps, RejectsImpossibleSizesAndWindows) {
  auto sps_with = [](uint32_t width, uint32_t height, uint32_t crop_bottom) {
    BitWriter w;
    w.bits(0x4201, 16);
    w.bits(0x01, 8);  // vps 0, 0 sub-layers, not nested
    w.bits(0x01, 8);
    w.bits(0, 32 + 48);
    w.bits(60, 8);
    w.ue(0);
    w.ue(1);
    w.ue(width);
    w.ue(height);
    w.bits(crop_bottom ? 1 : 0, 1);
    if (crop_bottom) {
      w.ue(0);
      w.ue(0);
      w.ue(0);
      w.ue(crop_bottom);
    }
    w.ue(0);
    w.ue(0);
    return w.finish();
  };
  EXPECT_TRUE(parse_sps(sps_with(64, 64, 0)).ok());
  EXPECT_FALSE(parse_sps(sps_with(0, 64, 0)).ok());
  EXPECT_FALSE(parse_sps(sps_with(64, 16889, 0)).ok());
  EXPECT_FALSE(parse_sps(sps_with(64, 64, 32)).ok());  // 32 chroma rows = all 64 luma rows
  EXPECT_TRUE(parse_sps(sps_with(64, 64, 31)).ok());
}

TEST(HevcDecoderConfig, ParsesRecordFromFfmpeg) {
  auto config = parse_hevc_decoder_config(kHvcc240p);
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->general.profile_idc, 1);
  EXPECT_FALSE(config->general.tier_flag);
  EXPECT_EQ(config->general.profile_compatibility_flags, 0x60000000u);
  EXPECT_EQ(config->general.constraint_indicator_flags, 0x900000000000u);
  EXPECT_EQ(config->general.level_idc, 60);
  EXPECT_EQ(config->chroma_format, 1);
  EXPECT_EQ(config->bit_depth_luma, 8);
  EXPECT_EQ(config->bit_depth_chroma, 8);
  EXPECT_EQ(config->num_temporal_layers, 1);
  EXPECT_TRUE(config->temporal_id_nested);
  EXPECT_EQ(config->length_size, 4);
  ASSERT_EQ(config->arrays.size(), 3u);
  const std::pair<uint8_t, const Bytes*> expected[] = {{32, &kVps240p}, {33, &kSps240p}, {34, &kPps240p}};
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(config->arrays[i].nal_type, expected[i].first);
    EXPECT_FALSE(config->arrays[i].complete);
    ASSERT_EQ(config->arrays[i].nal_units.size(), 1u);
    EXPECT_EQ(config->arrays[i].nal_units[0], *expected[i].second);
  }
  // The record's profile fields are the SPS's, bit for bit.
  EXPECT_EQ(config->general, parse_sps(kSps240p)->profile_tier_level);
}

TEST(HevcDecoderConfig, SerializeRoundTripsByteForByte) {
  for (const Bytes* record : {&kHvcc240p, &kHvcc1080p, &kHvcc240pMain10}) {
    auto config = parse_hevc_decoder_config(*record);
    ASSERT_TRUE(config.ok()) << config.error().message;
    auto bytes = serialize_hevc_decoder_config(*config);
    ASSERT_TRUE(bytes.ok()) << bytes.error().message;
    EXPECT_EQ(*bytes, *record);
  }
}

TEST(HevcDecoderConfig, BuildFromParameterSetsMatchesFfmpeg) {
  for (const Bytes* record : {&kHvcc240p, &kHvcc1080p, &kHvcc240pMain10}) {
    auto from_ffmpeg = parse_hevc_decoder_config(*record);
    ASSERT_TRUE(from_ffmpeg.ok());
    const auto& sets = from_ffmpeg->arrays;
    auto built = build_hevc_decoder_config(sets[0].nal_units[0], sets[1].nal_units[0], sets[2].nal_units[0]);
    ASSERT_TRUE(built.ok()) << built.error().message;
    EXPECT_EQ(*built, *record);
    auto parsed = parse_hevc_decoder_config(*built);
    ASSERT_TRUE(parsed.ok());
    auto sps = parse_sps(sets[1].nal_units[0]);
    ASSERT_TRUE(sps.ok());
    EXPECT_EQ(parsed->general, sps->profile_tier_level);
    EXPECT_EQ(parsed->chroma_format, sps->chroma_format_idc);
    EXPECT_EQ(parsed->bit_depth_luma, sps->bit_depth_luma);
    EXPECT_EQ(parsed->bit_depth_chroma, sps->bit_depth_chroma);
    EXPECT_EQ(parsed->length_size, 4);
  }
  EXPECT_FALSE(build_hevc_decoder_config(kSps240p, kSps240p, kPps240p).ok());
  EXPECT_FALSE(build_hevc_decoder_config(kVps240p, kPps240p, kPps240p).ok());
  EXPECT_FALSE(build_hevc_decoder_config(kVps240p, kSps240p, kSps240p).ok());
  EXPECT_FALSE(build_hevc_decoder_config(kVps240p, kSps240p, Bytes{}).ok());
}

TEST(HevcDecoderConfig, EveryTruncationFails) {
  for (size_t n = 0; n < kHvcc240p.size(); ++n)
    EXPECT_FALSE(parse_hevc_decoder_config(cut(kHvcc240p, n)).ok()) << n;
}

TEST(HevcDecoderConfig, RejectsMalformedRecords) {
  auto with = [](size_t index, uint8_t value) {
    Bytes b = kHvcc240p;
    b[index] = value;
    return parse_hevc_decoder_config(b);
  };
  EXPECT_FALSE(with(0, 0).ok());      // configurationVersion
  EXPECT_FALSE(with(21, 0x0E).ok());  // lengthSizeMinusOne 2
  EXPECT_FALSE(with(22, 17).ok());    // more arrays than the cap
  EXPECT_FALSE(with(22, 4).ok());     // a fourth array that is not there
  EXPECT_FALSE(with(23, 0x21).ok());  // VPS in an array of type 33
  EXPECT_FALSE(with(25, 65).ok());    // 65 NAL units in one array
  EXPECT_FALSE(with(26, 0xFF).ok());  // VPS length past the end
  EXPECT_FALSE(with(27, 0x00).ok());  // zero-length VPS: no header
  EXPECT_FALSE(with(28, 0xC0).ok());  // VPS with forbidden_zero_bit
}

TEST(HevcDecoderConfig, KeepsSeiArraysAndEmptyArrays) {
  auto config = parse_hevc_decoder_config(kHvcc240p);
  ASSERT_TRUE(config.ok());
  config->arrays.push_back({.complete = true, .nal_type = 39, .nal_units = {Bytes{0x4E, 0x01, 0x05, 0x80}}});
  config->arrays.push_back({.complete = false, .nal_type = 40, .nal_units = {}});
  config->length_size = 2;
  config->avg_frame_rate = 25 * 256;
  auto bytes = serialize_hevc_decoder_config(*config);
  ASSERT_TRUE(bytes.ok()) << bytes.error().message;
  auto again = parse_hevc_decoder_config(*bytes);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(*again, *config);
}

TEST(HevcDecoderConfig, SerializeRejectsWhatDoesNotFit) {
  const auto base = *parse_hevc_decoder_config(kHvcc240p);
  auto fails = [](HevcDecoderConfig c) { return !serialize_hevc_decoder_config(c).ok(); };
  auto c = base;
  c.length_size = 3;
  EXPECT_TRUE(fails(c));
  c = base;
  c.bit_depth_luma = 16;
  EXPECT_TRUE(fails(c));
  c = base;
  c.general.constraint_indicator_flags = uint64_t{1} << 48;
  EXPECT_TRUE(fails(c));
  c = base;
  c.arrays[0].nal_units.push_back(Bytes(65536, 0x40));
  c.arrays[0].nal_units.back()[1] = 0x01;
  EXPECT_TRUE(fails(c));
  c = base;
  c.arrays[2].nal_units.assign(65, kPps240p);
  EXPECT_TRUE(fails(c));
  c = base;
  c.arrays.resize(17);
  EXPECT_TRUE(fails(c));
  c = base;
  c.arrays[1].nal_units[0] = kPps240p;  // a PPS in the SPS array
  EXPECT_TRUE(fails(c));
}

}  // namespace
}  // namespace anchorcast::hevc
