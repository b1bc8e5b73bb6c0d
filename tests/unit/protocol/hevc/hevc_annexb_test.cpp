// hvcC-framed access units → Annex B, as the TS muxer writes HEVC. The NAL units are
// hand-made: only their 2-byte headers matter here (H.265 §7.3.1.2); real x265 output
// goes through the same code in tests/unit/protocol/mpegts/ts_muxer_test.cpp.
#include "relay/protocol/hevc/annexb.hpp"

#include <gtest/gtest.h>

namespace anchorcast::hevc {
namespace {

using Bytes = std::vector<uint8_t>;

// Header bytes: type << 1 (layer 0), then nuh_temporal_id_plus1.
const Bytes kVps = {32 << 1, 0x01, 0xAA};
const Bytes kSps = {33 << 1, 0x01, 0xBB};
const Bytes kPps = {34 << 1, 0x01, 0xCC};
const Bytes kAud = {35 << 1, 0x01, 0x50};
const Bytes kSei = {39 << 1, 0x01, 0x05, 0x80};
const Bytes kIdr = {19 << 1, 0x01, 0xAF, 0x11};   // IDR_W_RADL
const Bytes kCra = {21 << 1, 0x01, 0xAF, 0x22};   // CRA_NUT
const Bytes kTrail = {1 << 1, 0x01, 0xD0, 0x33};  // TRAIL_R
const Bytes kTrailTid2 = {1 << 1, 0x03, 0xD0, 0x44};  // TRAIL_R, TemporalId 2

Bytes length_prefixed(std::initializer_list<const Bytes*> nals) {
  Bytes out;
  for (const Bytes* nal : nals) {
    const auto n = static_cast<uint32_t>(nal->size());
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(n >> shift));
    out.insert(out.end(), nal->begin(), nal->end());
  }
  return out;
}

Bytes annexb(std::initializer_list<const Bytes*> nals) {
  Bytes out;
  for (const Bytes* nal : nals) {
    out.insert(out.end(), {0, 0, 0, 1});
    out.insert(out.end(), nal->begin(), nal->end());
  }
  return out;
}

Bytes join(const std::vector<std::span<const uint8_t>>& pieces) {
  Bytes out;
  for (auto piece : pieces) out.insert(out.end(), piece.begin(), piece.end());
  return out;
}

HevcDecoderConfig record_with(std::vector<HevcNalArray> arrays) {
  HevcDecoderConfig c;
  c.arrays = std::move(arrays);
  return c;
}

TEST(HevcAnnexB, AudFirstThenRecordParameterSetsBeforeAnIrap) {
  const Bytes sets = annexb({&kVps, &kSps, &kPps});
  const AnnexBOptions options{.insert_aud = true, .parameter_sets = sets};
  std::vector<std::span<const uint8_t>> pieces;
  const Bytes idr_au = length_prefixed({&kSei, &kIdr});
  ASSERT_TRUE(annexb_pieces(idr_au, 4, options, pieces).ok());
  EXPECT_EQ(join(pieces), annexb({&kAud, &kVps, &kSps, &kPps, &kSei, &kIdr}));

  // A CRA is an IRAP too; a trailing picture gets no parameter sets.
  const Bytes cra_au = length_prefixed({&kCra});
  ASSERT_TRUE(annexb_pieces(cra_au, 4, options, pieces).ok());
  EXPECT_EQ(join(pieces), annexb({&kAud, &kVps, &kSps, &kPps, &kCra}));
  const Bytes trail_au = length_prefixed({&kTrail});
  ASSERT_TRUE(annexb_pieces(trail_au, 4, options, pieces).ok());
  EXPECT_EQ(join(pieces), annexb({&kAud, &kTrail}));
}

TEST(HevcAnnexB, AnIrapWithItsOwnParameterSetsGetsNoCopies) {
  const Bytes sets = annexb({&kVps, &kSps, &kPps});
  const AnnexBOptions options{.insert_aud = true, .parameter_sets = sets};
  std::vector<std::span<const uint8_t>> pieces;
  const Bytes own = length_prefixed({&kVps, &kSps, &kPps, &kIdr});
  ASSERT_TRUE(annexb_pieces(own, 4, options, pieces).ok());
  EXPECT_EQ(join(pieces), annexb({&kAud, &kVps, &kSps, &kPps, &kIdr}));
  // Only a PPS of its own (some encoders resend it): the record's still go first.
  const Bytes pps_only = length_prefixed({&kPps, &kIdr});
  ASSERT_TRUE(annexb_pieces(pps_only, 4, options, pieces).ok());
  EXPECT_EQ(join(pieces), annexb({&kAud, &kVps, &kSps, &kPps, &kPps, &kIdr}));
}

TEST(HevcAnnexB, InputAudIsReplacedByOneWithTheAccessUnitsTemporalId) {
  const AnnexBOptions options{.insert_aud = true};
  std::vector<std::span<const uint8_t>> pieces;
  const Bytes au = length_prefixed({&kAud, &kTrailTid2});
  ASSERT_TRUE(annexb_pieces(au, 4, options, pieces).ok());
  const Bytes aud_tid2 = {35 << 1, 0x03, 0x50};
  EXPECT_EQ(join(pieces), annexb({&aud_tid2, &kTrailTid2}));
  // Without insert_aud the units pass as they are, the input's AUD included.
  ASSERT_TRUE(annexb_pieces(au, 4, AnnexBOptions{}, pieces).ok());
  EXPECT_EQ(join(pieces), annexb({&kAud, &kTrailTid2}));
}

TEST(HevcAnnexB, OtherLengthSizesWork) {
  Bytes au = {0, static_cast<uint8_t>(kTrail.size())};
  au.insert(au.end(), kTrail.begin(), kTrail.end());
  std::vector<std::span<const uint8_t>> pieces;
  ASSERT_TRUE(annexb_pieces(au, 2, AnnexBOptions{}, pieces).ok());
  EXPECT_EQ(join(pieces), annexb({&kTrail}));
}

TEST(HevcAnnexB, BadLengthsOrHeadersFailWithNothingEmitted) {
  const AnnexBOptions options{.insert_aud = true};
  std::vector<std::span<const uint8_t>> pieces;
  Bytes overlong = length_prefixed({&kIdr});
  overlong[3] = 0x40;
  auto s = annexb_pieces(overlong, 4, options, pieces);
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(pieces.empty());

  const Bytes forbidden = {0x80 | (1 << 1), 0x01, 0x00};
  const Bytes tid_zero = {1 << 1, 0x00, 0x00};
  for (const Bytes* bad : {&forbidden, &tid_zero}) {
    const Bytes au = length_prefixed({&kTrail, bad});
    s = annexb_pieces(au, 4, options, pieces);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.error().message.find("HEVC NAL unit #1"), std::string::npos) << s.error().message;
    EXPECT_TRUE(pieces.empty());
  }
}

TEST(HevcAnnexB, ParameterSetsComeOutVpsSpsPpsWithoutSei) {
  // Arrays in an unusual order, with a declarative SEI array: VPS, SPS, PPS come out in
  // decoding order and the SEI stays out.
  const auto config = record_with({{.nal_type = 34, .nal_units = {kPps}},
                                   {.nal_type = 39, .nal_units = {kSei}},
                                   {.nal_type = 33, .nal_units = {kSps}},
                                   {.nal_type = 32, .nal_units = {kVps}}});
  EXPECT_EQ(parameter_sets_annexb(config), annexb({&kVps, &kSps, &kPps}));
  EXPECT_TRUE(parameter_sets_annexb(record_with({})).empty());
}

TEST(HevcAnnexB, AccessUnitDelimiterPerTemporalId) {
  for (uint8_t tid = 0; tid < 7; ++tid) {
    const auto aud = access_unit_delimiter(tid);
    EXPECT_EQ(Bytes(aud.begin(), aud.end()), (Bytes{0, 0, 0, 1, 0x46, static_cast<uint8_t>(tid + 1), 0x50}));
  }
}

}  // namespace
}  // namespace anchorcast::hevc
