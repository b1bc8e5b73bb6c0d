// AAC from ffmpeg → OpusTranscoder → libavcodec's Opus decoder: every packet decodes to
// 20 ms of 48 kHz stereo and the timestamps advance by exactly that.
#include "relay/egress/webrtc/feed/opus_transcoder.hpp"

#include <gtest/gtest.h>

extern "C" {
#include <libavcodec/avcodec.h>
}

#include "aac_source.hpp"

namespace anchorcast::webrtc {
namespace {

struct OpusDecoder {
  AVCodecContext* context = nullptr;
  AVFrame* frame = av_frame_alloc();
  AVPacket* packet = av_packet_alloc();
  OpusDecoder() {
    const AVCodec* codec = avcodec_find_decoder(AV_CODEC_ID_OPUS);
    context = avcodec_alloc_context3(codec);
    context->sample_rate = 48000;
    av_channel_layout_default(&context->ch_layout, 2);
    EXPECT_EQ(avcodec_open2(context, codec, nullptr), 0);
  }
  ~OpusDecoder() {
    av_packet_free(&packet);
    av_frame_free(&frame);
    avcodec_free_context(&context);
  }
  // Samples per channel of one packet, -1 on error.
  int decode(const std::vector<uint8_t>& data) {
    packet->data = const_cast<uint8_t*>(data.data());
    packet->size = static_cast<int>(data.size());
    if (avcodec_send_packet(context, packet) < 0) return -1;
    int samples = 0;
    while (avcodec_receive_frame(context, frame) == 0) {
      EXPECT_EQ(frame->sample_rate, 48000);
      EXPECT_EQ(frame->ch_layout.nb_channels, 2);
      samples += frame->nb_samples;
      av_frame_unref(frame);
    }
    return samples;
  }
};

TEST(OpusTranscoder, AacBecomesTwentyMillisecondOpusFramesThatDecode) {
  auto aac = testing::make_aac(1.0, 44100, 2);
  ASSERT_GT(aac.frames.size(), 40u) << "ffmpeg produced no AAC";
  auto transcoder = OpusTranscoder::create(aac.audio_specific_config);
  ASSERT_TRUE(transcoder.ok()) << transcoder.error().message;
  std::vector<OpusFrame> out;
  const int64_t start_us = 5'000'000;
  for (size_t i = 0; i < aac.frames.size(); ++i) {
    const int64_t pts_us = start_us + static_cast<int64_t>(i) * 1024 * 1000000 / aac.sample_rate;
    auto st = (*transcoder)->push(aac.frames[i], pts_us, out);
    ASSERT_TRUE(st.ok()) << st.error().message;
  }
  // 1 s of input, minus what the decoder, resampler and encoder still hold.
  const double seconds_in = static_cast<double>(aac.frames.size()) * 1024 / aac.sample_rate;
  EXPECT_GE(out.size(), static_cast<size_t>(seconds_in * 50) - 4);
  EXPECT_LE(out.size(), static_cast<size_t>(seconds_in * 50) + 1);
  OpusDecoder decoder;
  int64_t total = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    EXPECT_EQ(out[i].samples, 960);
    const int samples = decoder.decode(out[i].data);
    EXPECT_EQ(samples, 960) << "packet " << i;
    total += samples;
    if (i > 0) {
      EXPECT_EQ(out[i].pts_48k - out[i - 1].pts_48k, 960);
    }
  }
  EXPECT_EQ(total, static_cast<int64_t>(out.size()) * 960);
  // The first frame carries the first input's timestamp (within the AAC decoder's delay).
  EXPECT_NEAR(static_cast<double>(out.front().pts_48k), start_us * 48000.0 / 1e6, 2048 * 48000.0 / 44100);
}

TEST(OpusTranscoder, ReanchorsAfterATimestampJump) {
  auto aac = testing::make_aac(0.5, 48000, 2);
  ASSERT_GT(aac.frames.size(), 10u);
  auto transcoder = OpusTranscoder::create(aac.audio_specific_config);
  ASSERT_TRUE(transcoder.ok()) << transcoder.error().message;
  std::vector<OpusFrame> out;
  for (size_t i = 0; i < aac.frames.size(); ++i) {
    const int64_t jump_us = i >= aac.frames.size() / 2 ? 10'000'000 : 0;
    ASSERT_TRUE((*transcoder)->push(aac.frames[i], jump_us + static_cast<int64_t>(i) * 1024 * 1000000 / 48000, out).ok());
  }
  ASSERT_GT(out.size(), 4u);
  EXPECT_GT(out.back().pts_48k, 48000 * 10);
}

TEST(OpusTranscoder, RefusesGarbage) {
  EXPECT_FALSE(OpusTranscoder::create({}).ok());
  auto aac = testing::make_aac(0.1);
  auto transcoder = OpusTranscoder::create(aac.audio_specific_config);
  ASSERT_TRUE(transcoder.ok());
  std::vector<OpusFrame> out;
  EXPECT_FALSE((*transcoder)->push({}, 0, out).ok());
}

}  // namespace
}  // namespace anchorcast::webrtc
