// An H.264 rendition re-encoded from a decoded source, matched to it: opened at the first
// frame's size and colour, the source's frame rate, the source's bitrate (measured over
// its first seconds, then set in place; a guess by height until then), a keyframe wherever the source has
// one. Shared by the compositor (burn-in `main`) and the WebRTC-safe transcode, so both
// renditions follow the anchor's settings the same way.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "anchorcast/core/result.hpp"
#include "anchorcast/media/packet.hpp"
#include "anchorcast/media/track.hpp"
#include "relay/codec/h264_encoder.hpp"

namespace anchorcast::codec {

class MatchedEncoder {
 public:
  // `label` names the rendition in log lines ("compositor 'demo'"); `profile` is the x264
  // profile (EncoderSettings::profile; "" = the preset's).
  explicit MatchedEncoder(std::string label, std::string profile = "")
      : label_(std::move(label)), profile_(std::move(profile)) {}

  // A new source track (a publisher session or new settings): its frame rate, and the
  // bitrate is measured again from here.
  void set_source(const VideoTrack& track);

  // Every source video packet, before it is decoded: the bitrate measurement.
  void count_source_packet(const Packet& packet);

  // Encodes `picture` at `pts` (in `time_base`, the decoder's). `decoded` is the frame as
  // decoded, whose size and colour the output follows: `picture` is that frame or a copy
  // drawn on. A keyframe of the source is a keyframe of the output. Returns true when the
  // encoder was (re)opened by this call (first frame, new size or colour):
  // output_track() changed and must be announced before the packets that follow. A
  // measured bitrate far from the one in use changes it in place (no new track).
  Result<bool> encode(const AVFrame& decoded, const AVFrame& picture, int64_t pts, TimeBase time_base,
                      bool keyframe);

  // The next access unit (dts == pts), or nothing; call after each encode() until empty.
  Result<std::optional<Packet>> receive() { return encoder_.receive(); }

  bool is_open() const { return encoder_.is_open(); }
  const VideoTrack& output_track() const { return encoder_.output_track(); }
  const EncoderSettings& settings() const { return encoder_.settings(); }
  void close();

  static constexpr double kKeyframeSeconds = 2;  // the longest run without a keyframe
  static constexpr double kBitrateWindowSeconds = 4;

 private:
  using Clock = std::chrono::steady_clock;
  Status open(int width, int height, TimeBase time_base, YuvColor color);

  std::string label_;
  std::string profile_;
  H264Encoder encoder_;
  double fps_ = 30;
  int bitrate_kbps_ = 0;  // measured; 0 until then
  bool bitrate_measured_ = false;
  int64_t measure_bytes_ = 0;
  std::optional<Clock::time_point> measure_since_;
  YuvColor color_;
};

}  // namespace anchorcast::codec
