// AAC (raw frames + AudioSpecificConfig) → Opus, 48 kHz stereo, 20 ms frames: libavcodec
// decodes, libswresample converts, the libopus encoder (native "opus" when Debian's
// FFmpeg lacks it) encodes. Browsers take only Opus over WebRTC. Not thread-safe: one
// per feed, on the feed's worker thread (this is the CPU-heavy part of a feed).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "anchorcast/core/result.hpp"

namespace anchorcast::webrtc {

struct OpusFrame {
  std::vector<uint8_t> data;
  int64_t pts_48k = 0;  // first sample of the frame, in 1/48000 s of the source timeline
  int samples = 960;    // per channel, at 48 kHz
};

class OpusTranscoder {
 public:
  static constexpr int kSampleRate = 48000;
  static constexpr int kChannels = 2;
  static constexpr int kFrameSamples = 960;  // 20 ms
  static constexpr int kBitrate = 96000;

  static Result<std::unique_ptr<OpusTranscoder>> create(std::span<const uint8_t> audio_specific_config);
  ~OpusTranscoder();
  OpusTranscoder(const OpusTranscoder&) = delete;
  OpusTranscoder& operator=(const OpusTranscoder&) = delete;

  // One raw AAC frame whose first sample is at `pts_us`. Appends every Opus frame now
  // complete to `out`. Output timestamps continue from the first input's pts, counted
  // in samples; an input more than 100 ms off that count (a gap, a new publisher
  // session) re-anchors them, dropping the partial frame.
  Status push(std::span<const uint8_t> aac_frame, int64_t pts_us, std::vector<OpusFrame>& out);

  const std::string& encoder_name() const;

 private:
  struct State;
  explicit OpusTranscoder(std::unique_ptr<State> state);
  Status drain_decoder(std::vector<OpusFrame>& out);
  Status encode_ready(std::vector<OpusFrame>& out);
  std::unique_ptr<State> state_;
};

}  // namespace anchorcast::webrtc
