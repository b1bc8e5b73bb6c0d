#include <gtest/gtest.h>

#include "media_fixtures.hpp"
#include "relay/protocol/aac/adts.hpp"
#include "relay/protocol/aac/audio_specific_config.hpp"

namespace anchorcast::aac {
namespace {

TEST(AudioSpecificConfig, ParsesFfmpegConfigsWithSyncExtension) {
  auto stereo = parse_audio_specific_config(fixtures::kAsc44100Stereo);
  ASSERT_TRUE(stereo.ok()) << stereo.error().message;
  EXPECT_EQ(stereo->object_type, kAacLc);
  EXPECT_EQ(stereo->sample_rate, 44100u);
  EXPECT_EQ(stereo->sampling_index, 4);
  EXPECT_EQ(stereo->channels(), 2);
  EXPECT_FALSE(stereo->sbr);  // the 0x2B7 extension says sbrPresentFlag = 0
  auto mono = parse_audio_specific_config(fixtures::kAsc48000Mono);
  ASSERT_TRUE(mono.ok());
  EXPECT_EQ(mono->sample_rate, 48000u);
  EXPECT_EQ(mono->channels(), 1);
}

TEST(AudioSpecificConfig, ParsesExplicitHeAacSignalling) {
  // Hand-assembled per 14496-3 §1.6.2.1: AOT 5 (SBR), index 6 (24 kHz), 2 channels,
  // extension index 3 (48 kHz), AOT 2 (LC), GASpecificConfig 000.
  const std::vector<uint8_t> he = {0x2B, 0x11, 0x88, 0x00};
  auto asc = parse_audio_specific_config(he);
  ASSERT_TRUE(asc.ok()) << asc.error().message;
  EXPECT_EQ(asc->object_type, kAacLc);
  EXPECT_TRUE(asc->sbr);
  EXPECT_FALSE(asc->ps);
  EXPECT_EQ(asc->sample_rate, 24000u);
  EXPECT_EQ(asc->output_sample_rate(), 48000u);
  EXPECT_EQ(asc->channels(), 2);
}

TEST(AudioSpecificConfig, ParsesEscapedObjectType) {
  // AOT 31 + 6 bits 0 = 32 (Layer-1), index 3, channel config 1.
  const std::vector<uint8_t> escaped = {0xF8, 0x06, 0x20};
  auto asc = parse_audio_specific_config(escaped);
  ASSERT_TRUE(asc.ok()) << asc.error().message;
  EXPECT_EQ(asc->object_type, 32);
  EXPECT_EQ(asc->sample_rate, 48000u);
  EXPECT_EQ(asc->channel_config, 1);
}

TEST(AudioSpecificConfig, BuildsTwoByteAndExplicitRateConfigs) {
  auto lc = build_audio_specific_config(kAacLc, 44100, 2);
  ASSERT_TRUE(lc.ok());
  EXPECT_EQ(*lc, std::vector<uint8_t>({0x12, 0x10}));
  auto odd = build_audio_specific_config(kAacLc, 22000, 1);  // no index: explicit 24-bit rate
  ASSERT_TRUE(odd.ok());
  EXPECT_EQ(odd->size(), 5u);
  auto back = parse_audio_specific_config(*odd);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->sampling_index, 15);
  EXPECT_EQ(back->sample_rate, 22000u);
  EXPECT_EQ(back->channel_config, 1);
  EXPECT_FALSE(build_audio_specific_config(kSbr, 44100, 2).ok());
  EXPECT_FALSE(build_audio_specific_config(kAacLc, 44100, 8).ok());
}

TEST(AudioSpecificConfig, RejectsTruncatedAndReservedValues) {
  EXPECT_FALSE(parse_audio_specific_config(std::vector<uint8_t>{0x12}).ok());
  EXPECT_FALSE(parse_audio_specific_config(std::vector<uint8_t>{0x16, 0x90}).ok());  // index 13
  EXPECT_FALSE(parse_audio_specific_config(std::vector<uint8_t>{0x12, 0x40}).ok());  // channel config 8
  EXPECT_FALSE(parse_audio_specific_config(std::vector<uint8_t>{0x17, 0x80}).ok());  // explicit rate cut short
  EXPECT_FALSE(parse_audio_specific_config(std::vector<uint8_t>{0x00, 0x00}).ok());  // AOT 0
}

TEST(Adts, BuildsTheSameHeaderAsFfmpeg) {
  auto asc = parse_audio_specific_config(fixtures::kAsc44100Stereo);
  ASSERT_TRUE(asc.ok());
  auto header = build_adts_header(*asc, 345 - 7);
  ASSERT_TRUE(header.ok());
  EXPECT_EQ(std::vector<uint8_t>(header->begin(), header->end()), fixtures::kAdtsHeader44100Stereo345);
}

TEST(Adts, ParsesHeaderBackToTheConfig) {
  auto h = parse_adts_header(fixtures::kAdtsHeader44100Stereo345);
  ASSERT_TRUE(h.ok()) << h.error().message;
  EXPECT_EQ(h->object_type, kAacLc);
  EXPECT_EQ(h->sample_rate(), 44100u);
  EXPECT_EQ(h->channel_config, 2);
  EXPECT_EQ(h->frame_length, 345);
  EXPECT_EQ(h->header_size(), 7u);
  EXPECT_FALSE(h->has_crc);
  EXPECT_EQ(h->raw_data_blocks, 1);
  auto asc = h->to_audio_specific_config();
  EXPECT_EQ(asc.sample_rate, 44100u);
  EXPECT_EQ(asc.channels(), 2);
}

TEST(Adts, RefusesWhatAdtsCannotCarry) {
  AudioSpecificConfig asc;
  asc.object_type = kAacLc;
  asc.sampling_index = 4;
  asc.channel_config = 2;
  EXPECT_FALSE(build_adts_header(asc, 8191).ok());  // 13-bit frame length
  EXPECT_TRUE(build_adts_header(asc, 8191 - 7).ok());
  asc.sampling_index = 15;
  EXPECT_FALSE(build_adts_header(asc, 100).ok());
  asc.sampling_index = 4;
  asc.object_type = 32;
  EXPECT_FALSE(build_adts_header(asc, 100).ok());
}

TEST(Adts, RejectsBadSyncAndShortInput) {
  EXPECT_FALSE(parse_adts_header(std::vector<uint8_t>{0xff, 0xf1, 0x50}).ok());
  auto bad = fixtures::kAdtsHeader44100Stereo345;
  bad[1] = 0xE1;
  EXPECT_FALSE(parse_adts_header(bad).ok());
  bad = fixtures::kAdtsHeader44100Stereo345;
  bad[1] = 0xF0;  // CRC present but only 7 bytes
  EXPECT_FALSE(parse_adts_header(bad).ok());
}

}  // namespace
}  // namespace anchorcast::aac
