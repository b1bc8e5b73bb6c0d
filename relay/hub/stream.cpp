#include "anchorcast/hub/stream.hpp"

#include <algorithm>

#include "anchorcast/core/log.hpp"
#include "anchorcast/core/secret.hpp"
#include "relay/hub/gop_cache.hpp"
#include "relay/hub/subscriber_queue.hpp"

namespace anchorcast {

namespace {
// Gap between the last packet of a publisher session and the first of the next one on
// the output timeline: about one frame, so players see continuity, not a jump.
constexpr int64_t kSessionGapUs = 40'000;
}  // namespace

const char* viewer_protocol_name(ViewerProtocol p) {
  switch (p) {
    case ViewerProtocol::internal: return "internal";
    case ViewerProtocol::hls: return "hls";
    case ViewerProtocol::flv: return "flv";
    case ViewerProtocol::rtmp: return "rtmp";
    case ViewerProtocol::webrtc: return "webrtc";
    case ViewerProtocol::srt: return "srt";
    case ViewerProtocol::count_: break;
  }
  return "?";
}

Stream::Stream(std::string id, std::string publish_key)
    : id_(std::move(id)), publish_key_(std::move(publish_key)), gop_(std::make_unique<GopCache>()) {}

Stream::~Stream() = default;

bool Stream::publish_key_matches(std::string_view key) const {
  // A rendition published by the server itself has no key and matches none.
  return !publish_key_.empty() && constant_time_equals(key, publish_key_);
}

Result<std::unique_ptr<StreamPublisher>> Stream::begin_publish(std::string protocol) {
  std::lock_guard lock(mutex_);
  if (closed_) return make_error("stream '" + id_ + "' was removed");
  if (live_) return make_error("stream '" + id_ + "' already has a live publisher (" + protocol_ + ")");
  live_ = true;
  new_session_ = true;
  b_frames_ = false;
  protocol_ = std::move(protocol);
  offset_pending_ = any_packet_;
  gop_->clear();
  sessions_.fetch_add(1, std::memory_order_relaxed);
  return std::unique_ptr<StreamPublisher>(new StreamPublisher(shared_from_this()));
}

void Stream::end_publish() {
  std::lock_guard lock(mutex_);
  if (!live_) return;
  live_ = false;
  protocol_.clear();
  gop_->clear();
  broadcast(MediaEvent::publisher_left());
}

void Stream::set_tracks(TrackSet tracks) {
  std::lock_guard lock(mutex_);
  if (!live_) return;
  bool same = tracks_ && *tracks_ == tracks;
  if (same && !new_session_) return;
  tracks_ = std::make_shared<const TrackSet>(std::move(tracks));
  // A decoder configuration change invalidates the GOP cache: its packets need the old
  // configuration, and a new viewer would get the new one first.
  gop_->clear();
  broadcast(MediaEvent::of_tracks(tracks_, new_session_));
  new_session_ = false;
}

int64_t Stream::output_position_ms() const {
  std::lock_guard lock(mutex_);
  return last_dts_us_ / 1000;
}

int64_t Stream::push(Packet&& packet) {
  std::lock_guard lock(mutex_);
  if (!live_) return packet.pts_in(kMillis);
  int64_t dts_us = packet.dts_in(kMicros);
  if (offset_pending_) {
    offset_us_ = last_dts_us_ + kSessionGapUs - dts_us;
    offset_pending_ = false;
  }
  if (offset_us_ != 0) {
    int64_t shift = rescale(offset_us_, kMicros, packet.time_base);
    packet.dts += shift;
    packet.pts += shift;
  }
  last_dts_us_ = std::max(last_dts_us_, dts_us + offset_us_);
  any_packet_ = true;
  if (packet.kind == MediaKind::video && packet.pts != packet.dts && !b_frames_) {
    // Browsers' WebRTC decoders mishandle reordered frames, so WebRTC viewers get a
    // transcode (egress/webrtc): say what it costs and how the anchor avoids it.
    b_frames_ = true;
    log::info("stream '", id_, "': the source has B-frames (pts != dts); WebRTC viewers get it transcoded to "
              "H.264 without B-frames, which costs CPU. Set the encoder's B-frames to 0 to pass it through "
              "(OBS: x264 option bframes=0, or profile baseline)");
  }
  bytes_in_.fetch_add(packet.bytes().size(), std::memory_order_relaxed);
  packets_in_.fetch_add(1, std::memory_order_relaxed);

  int64_t output_pts_ms = packet.pts_in(kMillis);
  auto shared = std::make_shared<const Packet>(std::move(packet));
  gop_->add(shared);
  broadcast(MediaEvent::of_packet(std::move(shared)));
  return output_pts_ms;
}

void Stream::push_cue(CuePtr cue) {
  std::lock_guard lock(mutex_);
  if (closed_ || !cue) return;
  latest_cue_ = cue;
  broadcast(MediaEvent::of_cue(std::move(cue)));
}

CuePtr Stream::latest_cue() const {
  std::lock_guard lock(mutex_);
  return latest_cue_;
}

void Stream::broadcast(const MediaEvent& event) {
  size_t dropped = 0;
  for (auto& q : subscribers_) dropped += q->push(event);
  if (dropped) packets_dropped_.fetch_add(dropped, std::memory_order_relaxed);
}

std::unique_ptr<Subscription> Stream::subscribe(SubscribeOptions options) {
  auto queue = std::make_shared<SubscriberQueue>(options.queue_capacity, std::move(options.notify));
  std::lock_guard lock(mutex_);
  if (closed_) {
    queue->push(MediaEvent::closed());
  } else if (live_ && tracks_) {
    queue->push(MediaEvent::of_tracks(tracks_, true));
    for (const auto& p : gop_->packets()) queue->push(MediaEvent::of_packet(p));
  }
  if (!closed_ && latest_cue_) queue->push(MediaEvent::of_cue(latest_cue_));
  subscribers_.push_back(queue);
  viewers_[static_cast<int>(options.protocol)].fetch_add(1, std::memory_order_relaxed);
  return std::unique_ptr<Subscription>(new Subscription(shared_from_this(), std::move(queue), options.protocol));
}

std::unique_ptr<CountedViewer> Stream::count_viewer(ViewerProtocol protocol) {
  viewers_[static_cast<int>(protocol)].fetch_add(1, std::memory_order_relaxed);
  return std::unique_ptr<CountedViewer>(new CountedViewer(shared_from_this(), protocol));
}

CountedViewer::~CountedViewer() {
  stream_->viewers_[static_cast<int>(protocol_)].fetch_sub(1, std::memory_order_relaxed);
}

void Stream::unsubscribe(SubscriberQueue* queue, ViewerProtocol protocol) {
  std::lock_guard lock(mutex_);
  auto it = std::find_if(subscribers_.begin(), subscribers_.end(),
                         [queue](const auto& q) { return q.get() == queue; });
  if (it == subscribers_.end()) return;
  // Order does not matter: swap-and-pop keeps unsubscribe O(1) after the search.
  std::swap(*it, subscribers_.back());
  subscribers_.pop_back();
  viewers_[static_cast<int>(protocol)].fetch_sub(1, std::memory_order_relaxed);
}

bool Stream::live() const {
  std::lock_guard lock(mutex_);
  return live_;
}

StreamSnapshot Stream::snapshot() const {
  StreamSnapshot s;
  {
    std::lock_guard lock(mutex_);
    s.live = live_;
    s.protocol = protocol_;
    s.tracks = live_ ? tracks_ : nullptr;
    s.b_frames = live_ && b_frames_;
  }
  s.id = id_;
  for (int i = 0; i < static_cast<int>(ViewerProtocol::count_); ++i)
    s.viewers[i] = viewers_[i].load(std::memory_order_relaxed);
  s.bytes_in = bytes_in_.load(std::memory_order_relaxed);
  s.packets_in = packets_in_.load(std::memory_order_relaxed);
  s.packets_dropped = packets_dropped_.load(std::memory_order_relaxed);
  s.sessions = sessions_.load(std::memory_order_relaxed);
  return s;
}

void Stream::close() {
  std::lock_guard lock(mutex_);
  if (closed_) return;
  closed_ = true;
  live_ = false;
  gop_->clear();
  broadcast(MediaEvent::closed());
}

StreamPublisher::~StreamPublisher() { stream_->end_publish(); }
void StreamPublisher::set_tracks(TrackSet tracks) { stream_->set_tracks(std::move(tracks)); }
int64_t StreamPublisher::push(Packet&& packet) { return stream_->push(std::move(packet)); }

Subscription::~Subscription() { stream_->unsubscribe(queue_.get(), protocol_); }
size_t Subscription::pop_all(std::vector<MediaEvent>& out) { return queue_->pop_all(out); }
uint64_t Subscription::dropped_packets() const { return queue_->dropped_packets(); }

}  // namespace anchorcast
