// The video a WebRTC feed packetizes. Browsers play H.264 without B-frames smoothly and
// stutter on B-frames (they render in decode order over RTP); they do not take HEVC. So a
// feed passes the source's H.264 through while it has no B-frames, and otherwise
// transcodes it once, for all of the feed's viewers, to H.264 Constrained Baseline (decode,
// then libx264 zerolatency matched to the source's size, bitrate and keyframes: the
// compositor's path, relay/codec/). Constrained Baseline is the profile every WebRTC
// endpoint must decode (RFC 7742) and the cheapest for a phone to decode. Decided per publisher session: an HEVC source is
// transcoded from its first packet, an H.264 one from its first packet with pts != dts.
// Runs on the feed's worker thread, never on a loop.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "anchorcast/core/metrics.hpp"
#include "anchorcast/core/result.hpp"
#include "anchorcast/hub/stream.hpp"
#include "anchorcast/media/packet.hpp"
#include "anchorcast/media/track.hpp"
#include "relay/codec/matched_encoder.hpp"
#include "relay/codec/video_decoder.hpp"

namespace anchorcast::webrtc {

enum class VideoDelivery { none, passthrough, transcoded };
const char* delivery_name(VideoDelivery delivery);

// What a feed of this stream would do with its video, from what the hub has seen of the
// source (its codec, whether it sent pts != dts).
VideoDelivery expected_delivery(const StreamSnapshot& snapshot);

// Counters of one (stream, rendition), kept across feeds (a feed ends 30 s after its last
// viewer; the next one adds to the same counters).
struct TranscodeMetrics {
  Counter* starts = nullptr;
  Counter* frames = nullptr;
  Counter* cpu_microseconds = nullptr;  // the feed thread's CPU time spent decoding and encoding
  Counter* dropped = nullptr;           // frames not encoded: the transcode was behind the source
  Histogram* latency = nullptr;         // source packet popped to its transcoded packet out
  static TranscodeMetrics in(Metrics& metrics, const std::string& stream, const std::string& rendition);
};

class WebRtcSafeVideo {
 public:
  WebRtcSafeVideo(std::string label, TranscodeMetrics metrics)
      : label_(std::move(label)), metrics_(metrics), encoder_("webrtc transcode " + label_, "baseline") {}

  // The source's video track; `new_session`: a publisher (re)started, so the choice is
  // made again.
  void set_source(const VideoTrack& track, bool new_session);

  // What the feed packetizes for `packet`, `arrived` being when the feed took it from the
  // hub: passthrough, `packet` itself (returns it); transcoded, the packets now ready
  // (none while the decoder fills its reorder window), appended to `out`, and returns
  // null. `track_changed` is set when output_track() changed (the encoder (re)opened):
  // announce it before packetizing `out`.
  const Packet* push(const Packet& packet, std::chrono::steady_clock::time_point arrived, std::vector<Packet>& out,
                     bool& track_changed);

  // The H.264 track of what push() gives: the source's while passing through, the
  // encoder's once it runs; nullopt before either is known (or for an undecodable codec).
  std::optional<VideoTrack> output_track() const;
  VideoDelivery delivery() const { return delivery_; }
  bool transcoder_running() const { return delivery_ == VideoDelivery::transcoded && decoder_.is_open(); }
  uint64_t errors() const { return errors_; }

 private:
  void start_transcoding(const char* why);
  void transcode(const Packet& packet, std::chrono::steady_clock::time_point arrived, std::vector<Packet>& out,
                 bool& track_changed);
  void encode(const AVFrame& frame, std::chrono::steady_clock::time_point released_at, std::vector<Packet>& out,
              bool& track_changed);
  void error(const std::string& what);

  struct PendingArrival {
    int64_t pts;  // in the decoder's time base
    std::chrono::steady_clock::time_point arrived;
  };

  std::string label_;
  TranscodeMetrics metrics_;
  std::optional<VideoTrack> source_;
  VideoDelivery delivery_ = VideoDelivery::none;
  codec::VideoDecoder decoder_;
  codec::MatchedEncoder encoder_;
  bool waiting_for_keyframe_ = true;
  std::deque<PendingArrival> pending_arrivals_;
  uint64_t errors_ = 0;
  uint64_t errors_logged_ = 0;
  std::chrono::steady_clock::time_point last_drop_log_{};
  uint64_t dropped_since_log_ = 0;
};

}  // namespace anchorcast::webrtc
