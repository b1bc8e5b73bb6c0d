#include <gtest/gtest.h>

#include "media_fixtures.hpp"
#include "relay/protocol/bits/bit_reader.hpp"
#include "relay/protocol/h264/annexb.hpp"
#include "relay/protocol/h264/avc_decoder_config.hpp"
#include "relay/protocol/h264/nal_unit.hpp"
#include "relay/protocol/h264/sps.hpp"

namespace anchorcast::h264 {
using bits::BitReader;

namespace {

using fixtures::kAvcConfig180pBaseline;
using fixtures::kAvcConfig720pHigh;
using fixtures::kPps180pBaseline;
using fixtures::kPps720pHigh;
using fixtures::kSps180pBaseline;
using fixtures::kSps720pHigh;

std::vector<uint8_t> bytes(std::initializer_list<uint8_t> b) { return b; }

TEST(BitReader, ReadsExpGolombCodes) {
  // 1 | 010 | 011 | 00100 | 00101 -> ue 0, 1, 2, 3; then se of code 00101 (k=4) = -2.
  const auto data = bytes({0b10100110, 0b01000010, 0b10000000});
  BitReader br(data);
  EXPECT_EQ(br.read_ue(), 0u);
  EXPECT_EQ(br.read_ue(), 1u);
  EXPECT_EQ(br.read_ue(), 2u);
  EXPECT_EQ(br.read_ue(), 3u);
  EXPECT_EQ(br.read_se(), -2);
  EXPECT_FALSE(br.failed());
}

TEST(BitReader, OverrunIsStickyAndReadsZeros) {
  const auto data = bytes({0xFF});
  BitReader br(data);
  EXPECT_EQ(br.read_bits(8), 0xFFu);
  EXPECT_EQ(br.read_bits(4), 0u);
  EXPECT_TRUE(br.failed());
}

TEST(BitReader, ExpGolombWithTooManyLeadingZerosFails) {
  const std::vector<uint8_t> zeros(8, 0);
  BitReader br(zeros);
  EXPECT_EQ(br.read_ue(), 0u);
  EXPECT_TRUE(br.failed());
}

TEST(NalUnit, RbspDropsEmulationPreventionBytes) {
  EXPECT_EQ(nal_to_rbsp(bytes({0x67, 0x00, 0x00, 0x03, 0x01, 0x00, 0x00, 0x03, 0x03})),
            bytes({0x67, 0x00, 0x00, 0x01, 0x00, 0x00, 0x03}));
}

TEST(Sps, Parses720pHighFromX264) {
  auto sps = parse_sps(kSps720pHigh);
  ASSERT_TRUE(sps.ok()) << sps.error().message;
  EXPECT_EQ(sps->profile_idc, 100);
  EXPECT_EQ(sps->level_idc, 31);
  EXPECT_EQ(sps->width, 1280);
  EXPECT_EQ(sps->height, 720);
  EXPECT_EQ(sps->chroma_format_idc, 1u);
  EXPECT_EQ(sps->bit_depth_luma, 8u);
  EXPECT_TRUE(sps->frame_mbs_only);
  EXPECT_DOUBLE_EQ(sps->fps, 30.0);
  EXPECT_EQ(sps->profile_level_id(), "64001f");
}

TEST(Sps, AppliesFrameCroppingFor180p) {
  auto sps = parse_sps(kSps180pBaseline);
  ASSERT_TRUE(sps.ok()) << sps.error().message;
  EXPECT_EQ(sps->width, 320);
  EXPECT_EQ(sps->height, 180);  // 12 macroblock rows = 192, cropped by 6 * 2
  EXPECT_DOUBLE_EQ(sps->fps, 25.0);
  EXPECT_EQ(sps->profile_level_id(), "42c00c");
}

TEST(Sps, RejectsOtherNalTypesAndTruncation) {
  EXPECT_FALSE(parse_sps(kPps720pHigh).ok());
  // The first 10 bytes hold everything up to frame cropping; any shorter cut loses a
  // field the picture size depends on.
  for (size_t n = 0; n < 10; ++n) {
    std::vector<uint8_t> cut(kSps720pHigh.begin(), kSps720pHigh.begin() + static_cast<std::ptrdiff_t>(n));
    EXPECT_FALSE(parse_sps(cut).ok()) << n;
  }
}

TEST(Sps, TruncatedVuiKeepsSizeButLosesFps) {
  // The SPS up to the middle of its VUI timing: size is known, timing is not.
  std::vector<uint8_t> cut(kSps720pHigh.begin(), kSps720pHigh.begin() + 16);
  auto sps = parse_sps(cut);
  ASSERT_TRUE(sps.ok()) << sps.error().message;
  EXPECT_EQ(sps->width, 1280);
  EXPECT_EQ(sps->height, 720);
  EXPECT_EQ(sps->fps, 0.0);
}

TEST(AvcDecoderConfig, ParsesRecordFromFfmpeg) {
  auto config = parse_avc_decoder_config(kAvcConfig720pHigh);
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->profile_idc, 100);
  EXPECT_EQ(config->level_idc, 31);
  EXPECT_EQ(config->length_size, 4);
  ASSERT_EQ(config->sps.size(), 1u);
  ASSERT_EQ(config->pps.size(), 1u);
  EXPECT_EQ(config->sps[0], kSps720pHigh);
  EXPECT_EQ(config->pps[0], kPps720pHigh);
  EXPECT_TRUE(config->has_high_profile_fields);
  EXPECT_EQ(config->chroma_format, 1);
  EXPECT_EQ(config->bit_depth_luma, 8);
}

// Found by fuzz_avc_config: a High-profile SPS whose scaling list carries a delta_scale
// of about 2^31 (the spec allows -128..127) overflowed int arithmetic.
TEST(Sps, RejectsScalingListDeltaOutOfRange) {
  std::vector<uint8_t> nal = {0x27, 0x8a, 0xff, 0xff, 0x7f, 0xa5, 0x5b, 0x31, 0xff, 0x1d, 0x1d, 0x1d,
                              0x1d, 0x1d, 0x1d, 0xff, 0x00, 0x00, 0x00, 0x01, 0xff, 0xff, 0xff, 0xf8,
                              0x15, 0x00, 0x00, 0x00, 0x7f, 0xa5, 0xff, 0xff, 0xff, 0xff, 0x7a, 0x21};
  auto sps = parse_sps(nal);
  ASSERT_FALSE(sps.ok());
  EXPECT_NE(sps.error().message.find("delta_scale"), std::string::npos) << sps.error().message;
}

TEST(AvcDecoderConfig, SerializeRoundTripsByteForByte) {
  for (const auto* record : {&kAvcConfig720pHigh, &kAvcConfig180pBaseline}) {
    auto config = parse_avc_decoder_config(*record);
    ASSERT_TRUE(config.ok());
    auto bytes = serialize_avc_decoder_config(*config);
    ASSERT_TRUE(bytes.ok());
    EXPECT_EQ(*bytes, *record);
  }
}

TEST(AvcDecoderConfig, BuildFromSpsAndPpsMatchesFfmpeg) {
  auto high = build_avc_decoder_config(kSps720pHigh, kPps720pHigh);
  ASSERT_TRUE(high.ok()) << high.error().message;
  EXPECT_EQ(*high, kAvcConfig720pHigh);
  auto baseline = build_avc_decoder_config(kSps180pBaseline, kPps180pBaseline);
  ASSERT_TRUE(baseline.ok());
  EXPECT_EQ(*baseline, kAvcConfig180pBaseline);
  EXPECT_FALSE(build_avc_decoder_config(kPps180pBaseline, kSps180pBaseline).ok());
}

TEST(AvcDecoderConfig, EveryTruncationBeforeThePpsEndFails) {
  // The record is 47 bytes; its PPS ends at byte 43 and the optional high-profile
  // fields follow.
  ASSERT_EQ(kAvcConfig720pHigh.size(), 47u);
  for (size_t n = 0; n < 43; ++n) {
    std::vector<uint8_t> cut(kAvcConfig720pHigh.begin(), kAvcConfig720pHigh.begin() + static_cast<std::ptrdiff_t>(n));
    EXPECT_FALSE(parse_avc_decoder_config(cut).ok()) << n;
  }
  std::vector<uint8_t> without_high(kAvcConfig720pHigh.begin(), kAvcConfig720pHigh.begin() + 43);
  auto config = parse_avc_decoder_config(without_high);
  ASSERT_TRUE(config.ok());
  EXPECT_FALSE(config->has_high_profile_fields);
}

TEST(AvcDecoderConfig, RejectsBadVersionAndThreeByteLengths) {
  auto bad = kAvcConfig180pBaseline;
  bad[0] = 2;
  EXPECT_FALSE(parse_avc_decoder_config(bad).ok());
  bad = kAvcConfig180pBaseline;
  bad[4] = 0xFE;  // lengthSizeMinusOne = 2
  EXPECT_FALSE(parse_avc_decoder_config(bad).ok());
}

TEST(Avcc, SplittingChecksEveryLength) {
  int count = 0;
  auto ok = for_each_avcc_nal(bytes({0, 0, 0, 2, 0x65, 0xAA, 0, 0, 0, 0, 0, 0, 0, 1, 0x41}), 4,
                              [&](std::span<const uint8_t>) { ++count; });
  EXPECT_TRUE(ok.ok());
  EXPECT_EQ(count, 2);  // the zero-length unit is skipped
  EXPECT_FALSE(for_each_avcc_nal(bytes({0, 0, 0, 9, 0x65}), 4, [](auto) {}).ok());
  EXPECT_FALSE(for_each_avcc_nal(bytes({0, 0, 0}), 4, [](auto) {}).ok());
  EXPECT_FALSE(for_each_avcc_nal(bytes({1, 0x65}), 3, [](auto) {}).ok());
  count = 0;
  EXPECT_TRUE(for_each_avcc_nal(bytes({1, 0x65, 2, 0x41, 0x42}), 1, [&](auto) { ++count; }).ok());
  EXPECT_EQ(count, 2);
}

TEST(AnnexB, SplitsOnThreeAndFourByteStartCodesAndDropsTrailingZeros) {
  std::vector<std::vector<uint8_t>> nals;
  for_each_annexb_nal(bytes({0xAA, 0, 0, 0, 1, 0x09, 0xF0, 0, 0, 1, 0x67, 0x42, 0, 0, 0, 0, 1, 0x65, 0x88}),
                      [&](std::span<const uint8_t> nal) { nals.emplace_back(nal.begin(), nal.end()); });
  ASSERT_EQ(nals.size(), 3u);
  EXPECT_EQ(nals[0], bytes({0x09, 0xF0}));
  EXPECT_EQ(nals[1], bytes({0x67, 0x42}));
  EXPECT_EQ(nals[2], bytes({0x65, 0x88}));
}

TEST(AnnexB, ConvertsIdrWithAudAndParameterSetsBeforeIt) {
  auto config = parse_avc_decoder_config(kAvcConfig180pBaseline);
  ASSERT_TRUE(config.ok());
  const auto params = parameter_sets_annexb(*config);
  // An AVCC IDR access unit: an AUD of its own, an SEI, an IDR slice.
  const auto au = bytes({0, 0, 0, 2, 0x09, 0x10, 0, 0, 0, 2, 0x06, 0x05, 0, 0, 0, 3, 0x65, 0x88, 0x84});
  std::vector<uint8_t> out;
  ASSERT_TRUE(avcc_to_annexb(au, 4, {.insert_aud = true, .parameter_sets = params}, out).ok());
  std::vector<uint8_t> expected(kAccessUnitDelimiter.begin(), kAccessUnitDelimiter.end());
  expected.insert(expected.end(), params.begin(), params.end());
  for (auto b : {0, 0, 0, 1, 0x06, 0x05, 0, 0, 0, 1, 0x65, 0x88, 0x84}) expected.push_back(static_cast<uint8_t>(b));
  EXPECT_EQ(out, expected);

  // A non-IDR access unit gets no parameter sets.
  out.clear();
  ASSERT_TRUE(avcc_to_annexb(bytes({0, 0, 0, 2, 0x41, 0x9A}), 4, {.insert_aud = true, .parameter_sets = params}, out).ok());
  EXPECT_EQ(out, bytes({0, 0, 0, 1, 0x09, 0xF0, 0, 0, 0, 1, 0x41, 0x9A}));
}

TEST(AnnexB, RoundTripsToAvcc) {
  const auto au = bytes({0, 0, 0, 2, 0x67, 0x42, 0, 0, 0, 1, 0x68, 0, 0, 0, 3, 0x65, 0x00, 0x01});
  std::vector<uint8_t> annexb;
  ASSERT_TRUE(avcc_to_annexb(au, 4, {}, annexb).ok());
  std::vector<uint8_t> back;
  annexb_to_avcc(annexb, back);
  EXPECT_EQ(back, au);
  EXPECT_FALSE(avcc_to_annexb(bytes({0, 0, 0, 5, 0x65}), 4, {}, annexb).ok());
}

}  // namespace
}  // namespace anchorcast::h264
