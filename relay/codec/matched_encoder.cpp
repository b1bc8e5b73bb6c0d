#include "relay/codec/matched_encoder.hpp"

#include <algorithm>
#include <cstdlib>

#include "anchorcast/core/log.hpp"

namespace anchorcast::codec {
namespace {

constexpr double kDefaultFps = 30;

int default_bitrate_kbps(int height) { return height >= 1000 ? 4500 : height >= 700 ? 2500 : 1200; }

}  // namespace

void MatchedEncoder::set_source(const VideoTrack& track) {
  fps_ = track.fps > 0 ? track.fps : kDefaultFps;
  bitrate_measured_ = false;
  measure_bytes_ = 0;
  measure_since_.reset();
}

void MatchedEncoder::count_source_packet(const Packet& packet) {
  if (bitrate_measured_) return;
  const auto now = Clock::now();
  if (!measure_since_) measure_since_ = now;
  measure_bytes_ += static_cast<int64_t>(packet.bytes().size());
  const double seconds = std::chrono::duration<double>(now - *measure_since_).count();
  if (seconds < kBitrateWindowSeconds || !packet.keyframe) return;
  bitrate_measured_ = true;
  const int measured = static_cast<int>(static_cast<double>(measure_bytes_) * 8 / seconds / 1000);
  const int current = encoder_.is_open() ? encoder_.settings().bitrate_kbps : 0;
  // Only when the guess was far off; in place, so viewers see no new parameter sets.
  if (measured > 100 && (current == 0 || std::abs(measured - current) * 4 > current)) {
    bitrate_kbps_ = measured;
    if (encoder_.is_open()) {
      encoder_.set_bitrate(measured);
      log::info(label_, ": the source's bitrate is ", measured, " kbps; encoding at that from the next frame");
    }
  }
}

Status MatchedEncoder::open(int width, int height, TimeBase time_base, YuvColor color) {
  EncoderSettings s;
  s.width = width & ~1;
  s.height = height & ~1;
  s.time_base = time_base;
  s.fps = fps_;
  s.bitrate_kbps = bitrate_kbps_ > 0 ? bitrate_kbps_ : default_bitrate_kbps(height);
  s.keyframe_interval = std::max(1, static_cast<int>(fps_ * kKeyframeSeconds + 0.5));
  s.color = color;  // players convert the output as the anchor's encoder intended
  // veryfast keeps p99 under 25 ms per frame on one core at 720p30, not at 1080p30
  // (perf/RESULTS.md, compositor): there ultrafast does, and the bitrate pays for it.
  s.preset = s.height >= 1000 ? "ultrafast" : "veryfast";
  s.profile = profile_;
  encoder_.close();
  if (auto st = encoder_.open(s); !st) return make_error(label_ + ": " + st.error().message);
  color_ = color;
  log::info(label_, ": encoding ", s.width, "x", s.height, " at ", s.bitrate_kbps, " kbps, ", s.preset,
            s.profile.empty() ? "" : ", profile " + s.profile);
  return {};
}

Result<bool> MatchedEncoder::encode(const AVFrame& decoded, const AVFrame& picture, int64_t pts, TimeBase time_base,
                                    bool keyframe) {
  const YuvColor color = yuv_color_of(decoded);
  bool reopened = false;
  const EncoderSettings& s = encoder_.settings();
  if (!encoder_.is_open() || s.width != (decoded.width & ~1) || s.height != (decoded.height & ~1) ||
      !(color == color_) || !(s.time_base == time_base)) {
    if (auto st = open(decoded.width, decoded.height, time_base, color); !st) return st.error();
    reopened = true;
  }
  if (auto st = encoder_.encode(&picture, pts, keyframe || reopened); !st) return st.error();
  return reopened;
}

void MatchedEncoder::close() { encoder_.close(); }

}  // namespace anchorcast::codec
