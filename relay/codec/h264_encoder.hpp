// YUV frames -> H.264 Packets with libx264 (through libavcodec), tuned for live:
// zerolatency (no lookahead, no B-frames: a frame in is a packet out), SPS/PPS once as
// the track's avcC instead of before every keyframe, a fixed keyframe interval.
#pragma once

#include <optional>
#include <string>

#include "anchorcast/core/result.hpp"
#include "anchorcast/media/packet.hpp"
#include "anchorcast/media/track.hpp"
#include "relay/codec/yuv_color.hpp"
#include "relay/codec/av_handles.hpp"

namespace anchorcast::codec {

struct EncoderSettings {
  int width = 0;  // even
  int height = 0;  // even
  TimeBase time_base = kMillis;  // of the pts given to encode() and of the output Packets
  double fps = 30;
  int bitrate_kbps = 2500;  // average; the VBV caps it over one second
  int keyframe_interval = 60;  // frames; no extra keyframes at scene cuts
  // x264 preset. veryfast is the slowest that keeps the added latency p99 <= 25 ms at
  // 720p30 on one core (19 ms); at 1080p30 only ultrafast does (16 ms; veryfast 38 ms).
  // perf/RESULTS.md, "Compositor media kernels".
  std::string preset = "veryfast";
  // x264 profile: "" leaves it to the preset (High from veryfast); "baseline" is
  // Constrained Baseline (no B-frames, CAVLC, no 8x8 transform), the profile every WebRTC
  // endpoint must decode (RFC 7742 §6.2) and the cheapest to decode.
  std::string profile;
  int threads = 1;  // > 1: x264 sliced threads (zerolatency), no added delay
  YuvColor color;  // written to the VUI, so players convert as the source intended
};

class H264Encoder {
 public:
  Status open(const EncoderSettings& settings);
  bool is_open() const { return context_ != nullptr; }
  const EncoderSettings& settings() const { return settings_; }

  // Codec, size, fps and the avcC built from x264's SPS/PPS; valid after open().
  const VideoTrack& output_track() const { return track_; }

  // Encodes `frame` (8-bit 4:2:0 of the opened size, or one more column/row when the
  // source is odd-sized: that one is left out; not modified) at `pts` in
  // settings().time_base; `force_keyframe` makes it an IDR. Then call receive() until
  // it yields nothing.
  Status encode(const AVFrame* frame, int64_t pts, bool force_keyframe = false);

  // The next access unit: AVCC with 4-byte lengths, dts == pts (no B-frames), in
  // settings().time_base; or nothing when the encoder needs more input.
  Result<std::optional<Packet>> receive();

  // A new average bitrate (and the one-second VBV with it) from the next frame on:
  // libx264 reconfigures in place, no new SPS/PPS, no keyframe. Ignored when not open.
  void set_bitrate(int kbps);

  // End of stream: packets still inside the encoder come out of receive().
  Status drain();
  void close();

 private:
  EncoderSettings settings_;
  VideoTrack track_;
  AvCodecContextPtr context_;
  AvFramePtr input_;
  AvPacketPtr packet_;
  bool draining_ = false;
};

}  // namespace anchorcast::codec
