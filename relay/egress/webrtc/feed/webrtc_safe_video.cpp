#include "relay/egress/webrtc/feed/webrtc_safe_video.hpp"

#include <time.h>

#include <algorithm>

#include "anchorcast/core/log.hpp"

namespace anchorcast::webrtc {
namespace {

using SteadyClock = std::chrono::steady_clock;

// A frame later than this behind its source packet is not encoded (viewers see one frame
// less) rather than letting delay pile up, as in the compositor.
constexpr auto kMaxLag = std::chrono::milliseconds(150);
// Arrival times of packets still inside the decoder (its reorder window is a few frames).
constexpr size_t kMaxPendingArrivals = 64;

int64_t thread_cpu_us() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

}  // namespace

const char* delivery_name(VideoDelivery delivery) {
  switch (delivery) {
    case VideoDelivery::passthrough: return "passthrough";
    case VideoDelivery::transcoded: return "transcoded";
    case VideoDelivery::none: break;
  }
  return "none";
}

VideoDelivery expected_delivery(const StreamSnapshot& snapshot) {
  if (!snapshot.tracks || !snapshot.tracks->video) return VideoDelivery::none;
  const Codec codec = snapshot.tracks->video->codec;
  if (codec == Codec::hevc || (codec == Codec::h264 && snapshot.b_frames)) return VideoDelivery::transcoded;
  return codec == Codec::h264 ? VideoDelivery::passthrough : VideoDelivery::none;
}

TranscodeMetrics TranscodeMetrics::in(Metrics& metrics, const std::string& stream, const std::string& rendition) {
  const std::vector<std::pair<std::string, std::string>> labels{{"stream", stream}, {"rendition", rendition}};
  TranscodeMetrics m;
  m.starts = &metrics.counter("anchorcast_webrtc_transcode_starts_total",
                              "WebRTC-safe transcodes started (a source with B-frames or in HEVC)", labels);
  m.frames = &metrics.counter("anchorcast_webrtc_transcode_frames_total",
                              "Frames transcoded to H.264 without B-frames for WebRTC viewers", labels);
  m.cpu_microseconds = &metrics.counter("anchorcast_webrtc_transcode_cpu_microseconds_total",
                                        "CPU time spent decoding and encoding the WebRTC-safe rendition", labels);
  m.dropped = &metrics.counter("anchorcast_webrtc_transcode_dropped_frames_total",
                               "Frames not re-encoded because the transcode fell behind the source", labels);
  m.latency = &metrics.histogram("anchorcast_webrtc_transcode_latency_seconds",
                                 "Source packet taken from the hub to its transcoded packet, per frame",
                                 {0.005, 0.01, 0.02, 0.033, 0.05, 0.067, 0.1, 0.15, 0.25, 0.5, 1}, labels);
  return m;
}

void WebRtcSafeVideo::set_source(const VideoTrack& track, bool new_session) {
  const bool changed = !source_ || !(*source_ == track);
  source_ = track;
  if (track.codec == Codec::hevc) {
    if (delivery_ != VideoDelivery::transcoded) start_transcoding("the source is HEVC");
  } else if (track.codec != Codec::h264) {
    delivery_ = VideoDelivery::none;
    decoder_.close();
    encoder_.close();
    return;
  } else if (new_session || delivery_ == VideoDelivery::none) {
    // A new session decides again: an anchor who turned B-frames off gets passthrough.
    delivery_ = VideoDelivery::passthrough;
    decoder_.close();
    encoder_.close();
  }
  if (delivery_ == VideoDelivery::transcoded && changed) {
    if (auto st = decoder_.open(track); !st) error(st.error().message);
    encoder_.set_source(track);
    waiting_for_keyframe_ = true;
  }
}

void WebRtcSafeVideo::start_transcoding(const char* why) {
  delivery_ = VideoDelivery::transcoded;
  waiting_for_keyframe_ = true;
  if (metrics_.starts) metrics_.starts->add();
  log::info(label_, ": ", why, "; transcoding to H.264 without B-frames for WebRTC viewers");
  if (source_) {
    if (auto st = decoder_.open(*source_); !st) error(st.error().message);
    encoder_.set_source(*source_);
  }
}

const Packet* WebRtcSafeVideo::push(const Packet& packet, SteadyClock::time_point arrived, std::vector<Packet>& out,
                                    bool& track_changed) {
  if (delivery_ == VideoDelivery::passthrough && packet.codec == Codec::h264 && packet.pts != packet.dts)
    start_transcoding("the source has B-frames (pts != dts)");
  if (delivery_ == VideoDelivery::passthrough) return packet.codec == Codec::h264 ? &packet : nullptr;
  if (delivery_ == VideoDelivery::transcoded) transcode(packet, arrived, out, track_changed);
  return nullptr;
}

void WebRtcSafeVideo::transcode(const Packet& packet, SteadyClock::time_point arrived, std::vector<Packet>& out,
                                bool& track_changed) {
  if (!decoder_.is_open()) return;
  // The decoder starts at a keyframe: what comes before it cannot be decoded.
  if (waiting_for_keyframe_ && !packet.keyframe) return;
  waiting_for_keyframe_ = false;
  const int64_t cpu_before = thread_cpu_us();
  encoder_.count_source_packet(packet);
  if (auto st = decoder_.send(packet); !st) {
    error(st.error().message);
  } else {
    // After send: the decoder's time base is the first packet's.
    pending_arrivals_.push_back({packet.pts_in(decoder_.time_base()), arrived});
    if (pending_arrivals_.size() > kMaxPendingArrivals) pending_arrivals_.pop_front();
    for (;;) {
      auto frame = decoder_.receive();
      if (!frame) {
        error(frame.error().message);
        break;
      }
      if (!*frame) break;
      encode(**frame, arrived, out, track_changed);
    }
  }
  if (metrics_.cpu_microseconds) metrics_.cpu_microseconds->add(static_cast<uint64_t>(thread_cpu_us() - cpu_before));
}

void WebRtcSafeVideo::encode(const AVFrame& frame, SteadyClock::time_point released_at, std::vector<Packet>& out,
                             bool& track_changed) {
  // When the frame's own packet reached the feed (the decoder gives frames in
  // presentation order, so a B-frame source holds some back for its reorder depth).
  auto arrived = released_at;
  auto it = std::find_if(pending_arrivals_.begin(), pending_arrivals_.end(),
                         [&](const PendingArrival& a) { return a.pts == frame.pts; });
  if (it != pending_arrivals_.end()) {
    arrived = it->arrived;
    pending_arrivals_.erase(it);
  }
  const bool keyframe = frame.key_frame != 0;
  // Behind the source is measured from the packet that released the frame: the reorder
  // wait is the source's and every decoder pays it; what piles up here is ours.
  if (!keyframe && SteadyClock::now() - released_at > kMaxLag) {
    if (metrics_.dropped) metrics_.dropped->add();
    ++dropped_since_log_;
    if (SteadyClock::now() - last_drop_log_ > std::chrono::seconds(10)) {
      log::warn(label_, ": the WebRTC transcode is behind the source, dropped ", dropped_since_log_, " frame(s)");
      dropped_since_log_ = 0;
      last_drop_log_ = SteadyClock::now();
    }
    return;
  }
  auto reopened = encoder_.encode(frame, frame, frame.pts, decoder_.time_base(), keyframe);
  if (!reopened) {
    error(reopened.error().message);
    return;
  }
  if (*reopened) track_changed = true;
  for (;;) {
    auto packet = encoder_.receive();
    if (!packet) {
      error(packet.error().message);
      return;
    }
    if (!*packet) return;
    out.push_back(std::move(**packet));
    if (metrics_.frames) metrics_.frames->add();
    if (metrics_.latency) metrics_.latency->observe(std::chrono::duration<double>(SteadyClock::now() - arrived).count());
  }
}

std::optional<VideoTrack> WebRtcSafeVideo::output_track() const {
  if (delivery_ == VideoDelivery::passthrough) return source_;
  if (delivery_ == VideoDelivery::transcoded && encoder_.is_open()) return encoder_.output_track();
  return std::nullopt;
}

void WebRtcSafeVideo::error(const std::string& what) {
  ++errors_;
  if (errors_logged_++ < 10) log::warn(label_, ": ", what);
}

}  // namespace anchorcast::webrtc
