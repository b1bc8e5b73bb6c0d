#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "h264_test_stream.hpp"
#include "overlay/compositor/av_yuv_frame.hpp"
#include "relay/codec/video_decoder.hpp"
#include "relay/codec/h264_encoder.hpp"
#include "overlay/compositor/yuv_blend.hpp"
#include "relay/protocol/h264/avc_decoder_config.hpp"
#include "relay/protocol/h264/nal_unit.hpp"
#include "relay/protocol/h264/sps.hpp"
#include "yuv_frames.hpp"

extern "C" {
#include <libavutil/log.h>
}

namespace anchorcast::compositor {
namespace {

// x264 prints its settings and statistics on every open and close.
const bool kQuietLibav = (av_log_set_level(AV_LOG_ERROR), true);

using anchorcast::testing::H264Stream;
using anchorcast::testing::make_test_stream;
using testing::OwnedYuvFrame;
using testing::RgbaCanvas;

OwnedYuvFrame copy_of(const AVFrame& f) {
  OwnedYuvFrame out(f.width, f.height, 0, 0, 0);
  for (int p = 0; p < 3; ++p)
    for (int row = 0; row < out.plane_height(p); ++row)
      for (int col = 0; col < out.plane_width(p); ++col)
        out.at(p, col, row) = f.data[p][static_cast<size_t>(row) * f.linesize[p] + col];
  out.pts = f.pts;
  return out;
}

struct Rect {
  int x = 0, y = 0, w = 0, h = 0;
  bool contains(int col, int row) const { return col >= x && col < x + w && row >= y && row < y + h; }
};

// Luma PSNR of a against b, over the samples inside `region` (inside = true) or outside it.
double luma_psnr(const OwnedYuvFrame& a, const OwnedYuvFrame& b, Rect region, bool inside) {
  double sum = 0;
  long n = 0;
  for (int row = 0; row < a.height; ++row)
    for (int col = 0; col < a.width; ++col) {
      if (region.contains(col, row) != inside) continue;
      const double d = a.at(0, col, row) - b.at(0, col, row);
      sum += d * d;
      ++n;
    }
  if (n == 0 || sum == 0) return 99;
  return 10 * std::log10(255.0 * 255.0 / (sum / n));
}

// Feeds every packet and collects every frame (drained at the end).
std::vector<OwnedYuvFrame> decode_all(codec::VideoDecoder& decoder, const H264Stream& stream) {
  std::vector<OwnedYuvFrame> frames;
  EXPECT_TRUE(decoder.open(stream.track).ok());
  auto collect = [&] {
    while (true) {
      auto frame = decoder.receive();
      EXPECT_TRUE(frame.ok()) << frame.error().message;
      if (!frame || !*frame) break;
      frames.push_back(copy_of(**frame));
    }
  };
  for (const Packet& p : stream.packets) {
    Status sent = decoder.send(p);
    EXPECT_TRUE(sent.ok()) << sent.error().message;
    collect();
  }
  EXPECT_TRUE(decoder.drain().ok());
  collect();
  return frames;
}

std::vector<int> nal_types(const Packet& p) {
  std::vector<int> types;
  EXPECT_TRUE(h264::for_each_avcc_nal(p.bytes(), 4, [&](std::span<const uint8_t> nal) {
                types.push_back(static_cast<int>(h264::nal_type(nal[0])));
              }).ok());
  return types;
}

TEST(VideoDecoder, LowDelaySourceGivesEachFrameRightAfterItsPacket) {
  const H264Stream stream = make_test_stream(320, 240, 25, 2);
  ASSERT_EQ(stream.packets.size(), 50u);
  codec::VideoDecoder decoder;
  ASSERT_TRUE(decoder.open(stream.track).ok());
  for (const Packet& p : stream.packets) {
    ASSERT_TRUE(decoder.send(p).ok());
    auto frame = decoder.receive();
    ASSERT_TRUE(frame.ok());
    ASSERT_NE(*frame, nullptr) << "frame held back at pts " << p.pts;
    EXPECT_EQ((*frame)->pts, p.pts);
    EXPECT_EQ((*frame)->width, 320);
    EXPECT_EQ((*frame)->height, 240);
    EXPECT_EQ(*decoder.receive(), nullptr);
  }
  EXPECT_EQ(decoder.time_base(), kMillis);
}

TEST(VideoDecoder, BFrameSourceComesOutInPresentationOrder) {
  // OBS's default x264 settings use B-frames; the reorder delay is the source's, not ours.
  const H264Stream stream = make_test_stream(320, 240, 25, 2, "-preset veryfast -bf 2 -g 25");
  codec::VideoDecoder decoder;
  const auto frames = decode_all(decoder, stream);
  ASSERT_EQ(frames.size(), stream.packets.size());
  for (size_t i = 1; i < frames.size(); ++i) EXPECT_EQ(frames[i].pts, frames[i - 1].pts + 40) << i;
}

TEST(VideoDecoder, GarbageIsAnErrorAndDecodingRecoversAtTheNextKeyframe) {
  const H264Stream stream = make_test_stream(320, 240, 25, 2);
  codec::VideoDecoder clean;
  const auto reference = decode_all(clean, stream);
  ASSERT_EQ(reference.size(), 50u);

  codec::VideoDecoder decoder;
  ASSERT_TRUE(decoder.open(stream.track).ok());
  for (size_t i = 0; i < 10; ++i) {
    ASSERT_TRUE(decoder.send(stream.packets[i]).ok());
    while (*decoder.receive()) {
    }
  }
  std::mt19937 rng(11);
  Packet garbage = stream.packets[10];
  for (auto& b : garbage.payload) b = static_cast<uint8_t>(rng());
  Status refused = decoder.send(garbage);
  EXPECT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("malformed"), std::string::npos) << refused.error().message;
  // Well framed but nonsense inside: libavcodec conceals or refuses; either way no crash.
  for (int k = 0; k < 20; ++k) {
    Packet framed = stream.packets[11];
    const size_t n = framed.payload.size() - 4;
    framed.payload[0] = static_cast<uint8_t>(n >> 24);
    framed.payload[1] = static_cast<uint8_t>(n >> 16);
    framed.payload[2] = static_cast<uint8_t>(n >> 8);
    framed.payload[3] = static_cast<uint8_t>(n);
    for (size_t i = 4; i < framed.payload.size(); ++i) framed.payload[i] = static_cast<uint8_t>(rng());
    (void)decoder.send(framed);
    while (true) {
      auto frame = decoder.receive();
      if (!frame || !*frame) break;
    }
  }
  // From the next keyframe (frame 25) on, the output is exactly a clean decode's.
  ASSERT_TRUE(stream.packets[25].keyframe);
  for (size_t i = 25; i < stream.packets.size(); ++i) {
    ASSERT_TRUE(decoder.send(stream.packets[i]).ok());
    auto frame = decoder.receive();
    ASSERT_TRUE(frame.ok() && *frame);
    EXPECT_TRUE(copy_of(**frame).same_picture(reference[i])) << "frame " << i;
  }
}

TEST(VideoDecoder, ReopensForANewTrackAndRefusesBadConfig) {
  const H264Stream small = make_test_stream(320, 240, 25, 0.4);
  const H264Stream large = make_test_stream(640, 360, 25, 0.4);
  codec::VideoDecoder decoder;
  EXPECT_EQ(decode_all(decoder, small).size(), small.packets.size());
  const auto frames = decode_all(decoder, large);  // open() with the new track
  ASSERT_EQ(frames.size(), large.packets.size());
  EXPECT_EQ(frames[0].width, 640);
  EXPECT_EQ(frames[0].height, 360);

  VideoTrack broken = large.track;
  broken.decoder_config.resize(5);
  EXPECT_FALSE(decoder.open(broken).ok());
  EXPECT_FALSE(decoder.is_open());
  EXPECT_FALSE(decoder.send(large.packets[0]).ok());
}

codec::EncoderSettings settings_for(int width, int height, int keyframe_interval) {
  codec::EncoderSettings s;
  s.width = width;
  s.height = height;
  s.time_base = kMillis;
  s.fps = 25;
  s.bitrate_kbps = 3000;
  s.keyframe_interval = keyframe_interval;
  return s;
}

TEST(H264Encoder, OutputTrackCarriesAnAvccOurParserReads) {
  codec::H264Encoder encoder;
  Status opened = encoder.open(settings_for(640, 360, 50));
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  const VideoTrack& track = encoder.output_track();
  EXPECT_EQ(track.codec, Codec::h264);
  EXPECT_EQ(track.width, 640);
  EXPECT_EQ(track.height, 360);
  auto config = h264::parse_avc_decoder_config(track.decoder_config);
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->length_size, 4);
  ASSERT_EQ(config->sps.size(), 1u);
  ASSERT_EQ(config->pps.size(), 1u);
  auto sps = h264::parse_sps(config->sps[0]);
  ASSERT_TRUE(sps.ok());
  EXPECT_EQ(sps->width, 640);
  EXPECT_EQ(sps->height, 360);
  EXPECT_EQ(config->profile_idc, sps->profile_idc);
}

TEST(H264Encoder, RefusesBadSettingsAndFrames) {
  codec::H264Encoder encoder;
  EXPECT_FALSE(encoder.open(settings_for(641, 360, 50)).ok());
  codec::EncoderSettings bad_preset = settings_for(640, 360, 50);
  bad_preset.preset = "ludicrous";
  EXPECT_FALSE(encoder.open(bad_preset).ok());
  ASSERT_TRUE(encoder.open(settings_for(640, 360, 50)).ok());
  AvFramePtr frame(av_frame_alloc());
  frame->width = 320;
  frame->height = 240;
  frame->format = AV_PIX_FMT_YUV420P;
  ASSERT_EQ(av_frame_get_buffer(frame.get(), 0), 0);
  EXPECT_FALSE(encoder.encode(frame.get(), 0).ok());
}

TEST(H264Encoder, OddSizedSourceLosesItsLastColumnAndRow) {
  codec::H264Encoder encoder;
  ASSERT_TRUE(encoder.open(settings_for(320, 240, 50)).ok());
  AvFramePtr frame(av_frame_alloc());
  frame->width = 321;
  frame->height = 241;
  frame->format = AV_PIX_FMT_YUV420P;
  ASSERT_EQ(av_frame_get_buffer(frame.get(), 0), 0);
  for (int p = 0; p < 3; ++p) std::fill_n(frame->data[p], frame->linesize[p] * (p ? 121 : 241), 128);
  ASSERT_TRUE(encoder.encode(frame.get(), 0).ok());
  EXPECT_EQ(frame->width, 321);  // the caller's frame is untouched
  auto packet = encoder.receive();
  ASSERT_TRUE(packet.ok() && packet->has_value());
  codec::VideoDecoder decoder;
  ASSERT_TRUE(decoder.open(encoder.output_track()).ok());
  ASSERT_TRUE(decoder.send(**packet).ok());
  auto decoded = decoder.receive();
  ASSERT_TRUE(decoded.ok() && *decoded);
  EXPECT_EQ((*decoded)->width, 320);
  EXPECT_EQ((*decoded)->height, 240);
}

TEST(H264Encoder, KeyframesAtTheIntervalAndWhenForced) {
  codec::H264Encoder encoder;
  ASSERT_TRUE(encoder.open(settings_for(320, 240, 20)).ok());
  AvFramePtr frame(av_frame_alloc());
  frame->width = 320;
  frame->height = 240;
  frame->format = AV_PIX_FMT_YUV420P;
  ASSERT_EQ(av_frame_get_buffer(frame.get(), 0), 0);
  std::mt19937 rng(1);
  std::vector<int> keyframes;
  for (int i = 0; i < 70; ++i) {
    for (int p = 0; p < 3; ++p)  // some motion so P-frames are not empty
      for (int k = 0; k < 200; ++k) frame->data[p][rng() % (frame->linesize[p] * (p ? 120 : 240))] = rng();
    ASSERT_TRUE(encoder.encode(frame.get(), i * 40, /*force_keyframe=*/i == 7).ok());
    auto packet = encoder.receive();
    ASSERT_TRUE(packet.ok());
    ASSERT_TRUE(packet->has_value()) << "zerolatency: one packet per frame, at once (frame " << i << ")";
    const Packet& p = **packet;
    EXPECT_EQ(p.pts, i * 40);
    EXPECT_EQ(p.dts, p.pts);
    EXPECT_EQ(p.time_base, kMillis);
    const auto types = nal_types(p);
    const bool has_idr = std::find(types.begin(), types.end(), 5) != types.end();
    EXPECT_EQ(p.keyframe, has_idr) << i;
    EXPECT_EQ(std::count(types.begin(), types.end(), 7), 0) << "SPS only in the avcC";
    if (p.keyframe) keyframes.push_back(i);
    EXPECT_FALSE(encoder.receive()->has_value());
  }
  // The interval counts from the last keyframe, forced ones included.
  EXPECT_EQ(keyframes, (std::vector<int>{0, 7, 27, 47, 67}));
  ASSERT_TRUE(encoder.drain().ok());
  EXPECT_FALSE(encoder.receive()->has_value());
}

// MatchedEncoder sets the measured source bitrate this way: no re-open, so viewers get no
// new parameter sets and no extra keyframe, and the rate follows from the next frames.
TEST(H264Encoder, SetBitrateTakesEffectInPlaceWithoutAKeyframe) {
  codec::H264Encoder encoder;
  codec::EncoderSettings s = settings_for(320, 240, 200);
  s.bitrate_kbps = 100;
  ASSERT_TRUE(encoder.open(s).ok());
  const VideoTrack track = encoder.output_track();
  AvFramePtr frame(av_frame_alloc());
  frame->width = 320;
  frame->height = 240;
  frame->format = AV_PIX_FMT_YUV420P;
  ASSERT_EQ(av_frame_get_buffer(frame.get(), 0), 0);
  std::mt19937 rng(2);
  size_t bytes[2] = {0, 0};
  for (int i = 0; i < 100; ++i) {
    if (i == 50) encoder.set_bitrate(2000);
    for (int p = 0; p < 3; ++p)  // noise everywhere: every bit of rate gets used
      for (int k = 0; k < 4000; ++k) frame->data[p][rng() % (frame->linesize[p] * (p ? 120 : 240))] = rng();
    ASSERT_TRUE(encoder.encode(frame.get(), i * 40).ok());
    auto packet = encoder.receive();
    ASSERT_TRUE(packet.ok() && packet->has_value());
    EXPECT_EQ((*packet)->keyframe, i == 0) << i;
    // The second half skips the first 10 frames after the change (the VBV refills).
    if (i >= 10 && i < 50) bytes[0] += (*packet)->bytes().size();
    if (i >= 60) bytes[1] += (*packet)->bytes().size();
  }
  EXPECT_EQ(encoder.output_track(), track) << "no new parameter sets";
  EXPECT_EQ(encoder.settings().bitrate_kbps, 2000);
  EXPECT_GT(bytes[1], bytes[0] * 5) << bytes[0] << " bytes at 100 kbps, " << bytes[1] << " at 2000";
}

TEST(VideoDecoder, ColourComesFromTheSourceVui) {
  const H264Stream full601 =
      make_test_stream(320, 240, 25, 0.2, "-preset veryfast -bf 0 -pix_fmt yuvj420p -colorspace smpte170m");
  codec::VideoDecoder decoder;
  ASSERT_TRUE(decoder.open(full601.track).ok());
  ASSERT_TRUE(decoder.send(full601.packets[0]).ok());
  auto frame = decoder.receive();
  ASSERT_TRUE(frame.ok() && *frame);
  EXPECT_EQ(yuv_color_of(**frame), (YuvColor{YuvMatrix::bt601, YuvRange::full}));

  // What the encoder writes to its VUI comes back out of a decoder.
  codec::EncoderSettings settings = settings_for(320, 240, 25);
  settings.color = YuvColor{YuvMatrix::bt709, YuvRange::full};
  codec::H264Encoder encoder;
  ASSERT_TRUE(encoder.open(settings).ok());
  ASSERT_TRUE(encoder.encode(*frame, 0).ok());
  auto packet = encoder.receive();
  ASSERT_TRUE(packet.ok() && packet->has_value());
  codec::VideoDecoder again;
  ASSERT_TRUE(again.open(encoder.output_track()).ok());
  ASSERT_TRUE(again.send(**packet).ok());
  auto round_trip = again.receive();
  ASSERT_TRUE(round_trip.ok() && *round_trip);
  EXPECT_EQ(yuv_color_of(**round_trip), (YuvColor{YuvMatrix::bt709, YuvRange::full}));
}

// With no overlay visible the service can hand the decoder's own frame to the encoder:
// encode() neither copies nor modifies it, and the decoder's later frames stay right.
TEST(Compositing, DecodedFramesEncodeDirectly) {
  const H264Stream source = make_test_stream(320, 240, 25, 1);
  codec::VideoDecoder reference_decoder;
  const auto reference = decode_all(reference_decoder, source);
  codec::VideoDecoder decoder;
  ASSERT_TRUE(decoder.open(source.track).ok());
  codec::H264Encoder encoder;
  ASSERT_TRUE(encoder.open(settings_for(320, 240, 25)).ok());
  H264Stream output;
  output.track = encoder.output_track();
  for (size_t i = 0; i < source.packets.size(); ++i) {
    ASSERT_TRUE(decoder.send(source.packets[i]).ok());
    auto frame = decoder.receive();
    ASSERT_TRUE(frame.ok() && *frame);
    EXPECT_TRUE(copy_of(**frame).same_picture(reference[i])) << i;
    ASSERT_TRUE(encoder.encode(*frame, (*frame)->pts).ok());
    auto packet = encoder.receive();
    ASSERT_TRUE(packet.ok() && packet->has_value());
    output.packets.push_back(std::move(**packet));
  }
  codec::VideoDecoder check;
  const auto frames = decode_all(check, output);
  ASSERT_EQ(frames.size(), reference.size());
  for (size_t i = 0; i < frames.size(); ++i) EXPECT_GT(luma_psnr(frames[i], reference[i], Rect{}, false), 35) << i;
}

TEST(Compositing, DecodeBlendEncodeChangesOnlyTheSpriteRegion) {
  const H264Stream source = make_test_stream(640, 360, 25, 2);
  ASSERT_EQ(source.packets.size(), 50u);
  codec::VideoDecoder decoder;
  ASSERT_TRUE(decoder.open(source.track).ok());
  codec::H264Encoder encoder;
  ASSERT_TRUE(encoder.open(settings_for(640, 360, 25)).ok());

  RgbaCanvas canvas(200, 100);
  canvas.fill(0, 0, 200, 100, 230, 230, 230, 230);  // a light panel at 90 %
  canvas.fill(20, 20, 180, 60, 200, 0, 0, 255);      // a red price box
  const Rect region{400, 220, 200, 100};
  YuvaSprite sprite;

  std::vector<OwnedYuvFrame> decoded_source, blended;
  std::vector<Packet> output;
  AvFramePtr target(av_frame_alloc());
  for (const Packet& p : source.packets) {
    ASSERT_TRUE(decoder.send(p).ok());
    auto frame = decoder.receive();
    ASSERT_TRUE(frame.ok() && *frame);
    AVFrame& decoded = **frame;
    decoded_source.push_back(copy_of(decoded));
    if (sprite.width == 0) {
      const YuvColor color = yuv_color_of(decoded);
      sprite = canvas.sprite(color.matrix, color.range);
    }
    ASSERT_TRUE(copy_for_blending(decoded, *target).ok());
    YuvFrameRef ref = yuv_frame_ref(*target);
    blend_sprite(sprite, region.x, region.y, kOpaque, ref);
    blended.push_back(copy_of(*target));
    ASSERT_TRUE(encoder.encode(target.get(), decoded.pts).ok());
    while (true) {
      auto packet = encoder.receive();
      ASSERT_TRUE(packet.ok());
      if (!packet->has_value()) break;
      output.push_back(std::move(**packet));
    }
  }
  // The decoder's own pictures were not drawn on (the blend went into a copy).
  EXPECT_GT(luma_psnr(decoded_source[10], blended[10], region, true), 0);
  EXPECT_LT(luma_psnr(decoded_source[10], blended[10], region, true), 20);

  ASSERT_TRUE(encoder.drain().ok());
  while (auto packet = encoder.receive()) {
    if (!packet->has_value()) break;
    output.push_back(std::move(**packet));
  }
  ASSERT_EQ(output.size(), source.packets.size());
  EXPECT_TRUE(output[0].keyframe);
  EXPECT_TRUE(output[25].keyframe);

  H264Stream result;
  result.track = encoder.output_track();
  result.packets = output;
  codec::VideoDecoder check;
  const auto frames = decode_all(check, result);
  ASSERT_EQ(frames.size(), decoded_source.size());
  for (size_t i = 0; i < frames.size(); ++i) {
    ASSERT_EQ(frames[i].width, 640);
    ASSERT_EQ(frames[i].height, 360);
    EXPECT_EQ(frames[i].pts, decoded_source[i].pts);
    const double rest = luma_psnr(frames[i], decoded_source[i], region, false);
    const double card = luma_psnr(frames[i], blended[i], region, true);
    const double card_vs_source = luma_psnr(frames[i], decoded_source[i], region, true);
    EXPECT_GT(rest, 35) << "frame " << i << ": outside the card the video must stay the source's";
    EXPECT_GT(card, 35) << "frame " << i << ": the card must be what was blended";
    EXPECT_LT(card_vs_source, 20) << "frame " << i << ": the card region must differ from the source";
  }
}

}  // namespace
}  // namespace anchorcast::compositor
