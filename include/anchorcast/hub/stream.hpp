// A Stream: one publisher, many subscribers, a GOP cache so a new viewer starts on the
// latest keyframe at once. Thread-safe: the publisher and each subscriber may live on
// different threads; the only hand-off is a bounded SubscriberQueue per subscriber whose
// notify callback wakes the consumer's own loop.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "anchorcast/core/result.hpp"
#include "anchorcast/hub/media_event.hpp"

namespace anchorcast {

class SubscriberQueue;
class StreamPublisher;
class Subscription;
class GopCache;

enum class ViewerProtocol : uint8_t { internal, hls, flv, rtmp, webrtc, srt, count_ };
const char* viewer_protocol_name(ViewerProtocol p);

struct SubscribeOptions {
  ViewerProtocol protocol = ViewerProtocol::internal;
  size_t queue_capacity = 1024;  // events; past it the viewer skips to a keyframe
  // Called from the publisher's thread when the queue turns non-empty. Must be cheap and
  // thread-safe (uv_async_send, asio::post); never call back into the Stream from it.
  std::function<void()> notify;
};

struct StreamSnapshot {
  std::string id;
  bool live = false;
  std::string protocol;  // ingest protocol of the live publisher, "" when not live
  TrackSetPtr tracks;
  int viewers[static_cast<int>(ViewerProtocol::count_)] = {};
  uint64_t bytes_in = 0;
  uint64_t packets_in = 0;
  uint64_t packets_dropped = 0;  // skipped for slow viewers
  uint64_t sessions = 0;         // publisher sessions since start
  bool b_frames = false;         // the live source's video has reordered frames
};

class CountedViewer;

class Stream : public std::enable_shared_from_this<Stream> {
 public:
  Stream(std::string id, std::string publish_key);
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  const std::string& id() const { return id_; }
  bool publish_key_matches(std::string_view key) const;  // constant time

  // Fails (with a message naming the reason) when a publisher is already live.
  Result<std::unique_ptr<StreamPublisher>> begin_publish(std::string protocol);

  // The subscriber first gets the current tracks and the GOP cache, then live events.
  std::unique_ptr<Subscription> subscribe(SubscribeOptions options);
  // A viewer served from elsewhere (a WebRTC session reads its stream's one RtpFeed):
  // counted in snapshot().viewers like a subscriber, with no queue to fill per packet.
  std::unique_ptr<CountedViewer> count_viewer(ViewerProtocol protocol);

  bool live() const;
  StreamSnapshot snapshot() const;
  // The newest dts pushed, in ms of the stream's output timeline (0 before any packet).
  // The control channel stamps `applied` events with it until the compositor exists.
  int64_t output_position_ms() const;

  // Timed metadata from the server itself (the control plane, the compositor), already in
  // the output timeline. Subscribers get it in order with the media; a new subscriber
  // gets the latest cue right after the GOP cache, so it knows the overlays at once.
  void push_cue(CuePtr cue);
  CuePtr latest_cue() const;

  // Ends every subscriber (stream_closed) and refuses publishers from now on.
  void close();

 private:
  friend class StreamPublisher;
  friend class Subscription;
  friend class CountedViewer;
  void end_publish();
  void set_tracks(TrackSet tracks);
  int64_t push(Packet&& packet);
  void broadcast(const MediaEvent& event);
  void unsubscribe(SubscriberQueue* queue, ViewerProtocol protocol);

  const std::string id_;
  const std::string publish_key_;

  mutable std::mutex mutex_;
  bool live_ = false;
  bool closed_ = false;
  bool new_session_ = false;
  std::string protocol_;
  TrackSetPtr tracks_;
  CuePtr latest_cue_;
  std::unique_ptr<GopCache> gop_;
  std::vector<std::shared_ptr<SubscriberQueue>> subscribers_;
  // One steady output timeline across publisher sessions: each session's timestamps
  // are shifted so it starts just after the previous one ended.
  int64_t offset_us_ = 0;
  bool offset_pending_ = false;
  int64_t last_dts_us_ = 0;
  bool any_packet_ = false;
  bool b_frames_ = false;  // this publisher session's video has pts != dts

  std::atomic<int> viewers_[static_cast<int>(ViewerProtocol::count_)] = {};
  std::atomic<uint64_t> bytes_in_{0};
  std::atomic<uint64_t> packets_in_{0};
  std::atomic<uint64_t> packets_dropped_{0};
  std::atomic<uint64_t> sessions_{0};
};

// The right to publish on a Stream; destroying it ends the publisher session.
class StreamPublisher {
 public:
  ~StreamPublisher();
  StreamPublisher(const StreamPublisher&) = delete;
  StreamPublisher& operator=(const StreamPublisher&) = delete;

  // Announce codecs; repeat when decoder configuration changes mid-stream.
  void set_tracks(TrackSet tracks);
  // Returns the packet's pts in ms of the stream's output timeline (what viewers see).
  int64_t push(Packet&& packet);
  Stream& stream() { return *stream_; }

 private:
  friend class Stream;
  explicit StreamPublisher(std::shared_ptr<Stream> stream) : stream_(std::move(stream)) {}
  std::shared_ptr<Stream> stream_;
};

// A subscriber's end of the hand-off; destroying it unsubscribes.
class Subscription {
 public:
  ~Subscription();
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;

  // Appends every pending event to `out` (the caller reuses `out`: no allocation once
  // it has grown) and re-arms notify. Returns how many were appended.
  size_t pop_all(std::vector<MediaEvent>& out);
  uint64_t dropped_packets() const;
  Stream& stream() { return *stream_; }

 private:
  friend class Stream;
  Subscription(std::shared_ptr<Stream> stream, std::shared_ptr<SubscriberQueue> queue,
               ViewerProtocol protocol)
      : stream_(std::move(stream)), queue_(std::move(queue)), protocol_(protocol) {}
  std::shared_ptr<Stream> stream_;
  std::shared_ptr<SubscriberQueue> queue_;
  ViewerProtocol protocol_;
};

// One counted viewer; destroying it uncounts.
class CountedViewer {
 public:
  ~CountedViewer();
  CountedViewer(const CountedViewer&) = delete;
  CountedViewer& operator=(const CountedViewer&) = delete;

 private:
  friend class Stream;
  CountedViewer(std::shared_ptr<Stream> stream, ViewerProtocol protocol)
      : stream_(std::move(stream)), protocol_(protocol) {}
  std::shared_ptr<Stream> stream_;
  ViewerProtocol protocol_;
};

}  // namespace anchorcast
