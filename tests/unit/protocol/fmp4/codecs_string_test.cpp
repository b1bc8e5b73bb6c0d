#include "relay/protocol/fmp4/codecs_string.hpp"

#include <gtest/gtest.h>

#include "hevc_record.hpp"
#include "media_fixtures.hpp"
#include "relay/protocol/fmp4/track_config.hpp"
#include "relay/protocol/hevc/hevc_decoder_config.hpp"

namespace anchorcast::fmp4 {
namespace {

using fixtures::kHvcc240p;

TEST(CodecsString, HevcFromARealRecord) {
  auto record = hevc::parse_hevc_decoder_config(kHvcc240p);
  ASSERT_TRUE(record.ok()) << record.error().message;
  // 14496-15 E.3: "1" profile, "6" = flags 1 and 2 reversed, "L60", constraint byte 0x90
  // and the five zero bytes after it left out.
  EXPECT_EQ(hevc_codecs_string(record->general), "hvc1.1.6.L60.90");
  EXPECT_EQ(hevc_codecs_string(record->general, "hev1"), "hev1.1.6.L60.90");
  // The track made from it says the same.
  VideoTrack track;
  track.codec = Codec::hevc;
  track.decoder_config = kHvcc240p;
  auto config = make_video_track(track);
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->codecs, "hvc1.1.6.L60.90");
}

TEST(CodecsString, HevcFieldsFollowAnnexE) {
  // Main 10 (2, compatibility flag 2), Main tier, level 4.1 (123), progressive +
  // non-packed + frame-only (0xB0).
  hevc::ProfileTierLevel main10{.profile_space = 0,
                                .tier_flag = false,
                                .profile_idc = 2,
                                .profile_compatibility_flags = 0x20000000,
                                .constraint_indicator_flags = uint64_t{0xB0} << 40,
                                .level_idc = 123};
  EXPECT_EQ(hevc_codecs_string(main10), "hvc1.2.4.L123.B0");
  // Profile space 1 is "A"; High tier is "H"; flag 31 reversed is bit 31; zero bytes
  // inside the constraint flags stay, trailing ones go.
  hevc::ProfileTierLevel odd{.profile_space = 1,
                             .tier_flag = true,
                             .profile_idc = 4,
                             .profile_compatibility_flags = 0x00000001,
                             .constraint_indicator_flags = uint64_t{0x90} << 40 | uint64_t{0x0C} << 16,
                             .level_idc = 153};
  EXPECT_EQ(hevc_codecs_string(odd), "hvc1.A4.80000000.H153.90.0.0.C");
  // No constraint flags at all: the string ends with the level.
  hevc::ProfileTierLevel bare{.profile_idc = 1, .profile_compatibility_flags = 0x40000000, .level_idc = 93};
  EXPECT_EQ(hevc_codecs_string(bare), "hvc1.1.2.L93");
}

TEST(CodecsString, AvcAndAac) {
  // RFC 6381 §3.3: profile_idc 0x64 (High), constraint byte 0x00, level_idc 0x1f (3.1).
  VideoTrack track;
  track.codec = Codec::h264;
  track.decoder_config = fixtures::kAvcConfig720pHigh;
  auto config = make_video_track(track);
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->codecs, "avc1.64001f");
  EXPECT_EQ(avc_codecs_string(0x42, 0xc0, 0x0c), "avc1.42c00c");

  auto lc = aac::parse_audio_specific_config(fixtures::kAsc48000Mono);
  ASSERT_TRUE(lc.ok());
  EXPECT_EQ(aac_codecs_string(*lc), "mp4a.40.2");
  // Explicit HE-AAC: object type 5, 24 kHz core, stereo, 48 kHz SBR, core type 2 (LC).
  auto he = aac::parse_audio_specific_config(std::vector<uint8_t>{0x2b, 0x11, 0x88, 0x00});
  ASSERT_TRUE(he.ok()) << he.error().message;
  ASSERT_TRUE(he->sbr);
  EXPECT_EQ(aac_codecs_string(*he), "mp4a.40.5");
}

}  // namespace
}  // namespace anchorcast::fmp4
