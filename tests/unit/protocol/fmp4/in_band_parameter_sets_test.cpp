#include "relay/protocol/fmp4/in_band_parameter_sets.hpp"

#include <gtest/gtest.h>

#include "hevc_fixture.hpp"
#include "media_fixtures.hpp"
#include "relay/protocol/bits/byte_writer.hpp"
#include "relay/protocol/hevc/hevc_decoder_config.hpp"

namespace anchorcast::fmp4 {
namespace {

using Bytes = std::vector<uint8_t>;

Bytes length_prefixed(std::initializer_list<Bytes> nals) {
  Bytes out;
  for (const auto& nal : nals) {
    bits::append_be32(out, static_cast<uint32_t>(nal.size()));
    out.insert(out.end(), nal.begin(), nal.end());
  }
  return out;
}

struct ParameterSets {
  Bytes vps, sps, pps;
};

ParameterSets fixture_parameter_sets(const Bytes& record) {
  auto parsed = hevc::parse_hevc_decoder_config(record);
  EXPECT_TRUE(parsed.ok());
  return {parsed->arrays.at(0).nal_units.at(0), parsed->arrays.at(1).nal_units.at(0),
          parsed->arrays.at(2).nal_units.at(0)};
}

const Bytes kIdrSlice = {0x28, 0x01, 0xaf, 0x1d, 0x80};  // IDR_N_LP (20) header + bytes

TEST(InBandParameterSets, ARecordComesFromTheFirstKeyframeWhenTheTrackHasNone) {
  const auto fixture = fixtures::load_hevc_fixture();
  const auto ps = fixture_parameter_sets(fixture.tracks.video->decoder_config);
  const Bytes keyframe = length_prefixed({ps.vps, ps.sps, ps.pps, kIdrSlice});
  auto record = decoder_config_for_keyframe(Codec::hevc, {}, keyframe);
  ASSERT_TRUE(record.ok()) << record.error().message;
  ASSERT_TRUE(*record);
  EXPECT_EQ(fixture_parameter_sets(**record).sps, ps.sps);
  // The same parameter sets again: nothing changes.
  auto again = decoder_config_for_keyframe(Codec::hevc, **record, keyframe);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
  // A keyframe without parameter sets keeps the record, and cannot make one.
  auto bare = decoder_config_for_keyframe(Codec::hevc, **record, length_prefixed({kIdrSlice}));
  ASSERT_TRUE(bare.ok());
  EXPECT_FALSE(*bare);
  auto none = decoder_config_for_keyframe(Codec::hevc, {}, length_prefixed({kIdrSlice}));
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().message, "HEVC keyframe carries no VPS, SPS or PPS and the track has no hvcC");
}

TEST(InBandParameterSets, ANewPpsMakesANewRecordKeepingTheRest) {
  const auto fixture = fixtures::load_hevc_fixture();
  const Bytes& record = fixture.tracks.video->decoder_config;
  const auto ps = fixture_parameter_sets(record);
  Bytes other_pps = ps.pps;
  other_pps.push_back(0x80);  // differs from the record's
  auto next = decoder_config_for_keyframe(Codec::hevc, record, length_prefixed({other_pps, kIdrSlice}));
  ASSERT_TRUE(next.ok()) << next.error().message;
  ASSERT_TRUE(*next);
  const auto got = fixture_parameter_sets(**next);
  EXPECT_EQ(got.vps, ps.vps);
  EXPECT_EQ(got.sps, ps.sps);
  EXPECT_EQ(got.pps, other_pps);
  // With no record to take the VPS and SPS from, a lone PPS is not enough.
  auto lone = decoder_config_for_keyframe(Codec::hevc, {}, length_prefixed({other_pps, kIdrSlice}));
  ASSERT_FALSE(lone.ok());
  EXPECT_EQ(lone.error().message, "HEVC keyframe has new parameter sets but no VPS, in band or in the track's hvcC");
}

TEST(InBandParameterSets, H264KeyframesToo) {
  const Bytes idr = {0x65, 0x88, 0x80};
  auto same = decoder_config_for_keyframe(Codec::h264, fixtures::kAvcConfig720pHigh,
                                          length_prefixed({fixtures::kSps720pHigh, fixtures::kPps720pHigh, idr}));
  ASSERT_TRUE(same.ok()) << same.error().message;
  EXPECT_FALSE(*same);
  auto other = decoder_config_for_keyframe(
      Codec::h264, fixtures::kAvcConfig720pHigh,
      length_prefixed({fixtures::kSps180pBaseline, fixtures::kPps180pBaseline, idr}));
  ASSERT_TRUE(other.ok()) << other.error().message;
  ASSERT_TRUE(*other);
  EXPECT_EQ(**other, fixtures::kAvcConfig180pBaseline);
  Bytes cut = length_prefixed({idr});
  cut.pop_back();
  EXPECT_FALSE(decoder_config_for_keyframe(Codec::h264, fixtures::kAvcConfig720pHigh, cut).ok());
}

}  // namespace
}  // namespace anchorcast::fmp4
