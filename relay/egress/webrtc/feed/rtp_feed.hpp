// RtpFeed: the RTP side of one Stream (one rendition) for all of its WebRTC viewers.
//
// ─── Contract with the WebRTC transport (sessions, ICE, DTLS, SRTP, WHEP) ───────────
//
// Creating. One feed per (stream, rendition) with WebRTC viewers: `RtpFeed::create`
// subscribes to the hub (ViewerProtocol::webrtc) and starts the feed's worker thread,
// which transcodes AAC → Opus once, makes the video WebRTC-safe once (a source with
// B-frames or in HEVC is transcoded to H.264 without B-frames: webrtc_safe_video.hpp)
// and packetizes H.264 once (RFC 6184 mode 1, STAP-A SPS+PPS before every keyframe,
// FU-A, 1200-byte packets). Destroying the last
// shared_ptr stops the worker and unsubscribes. Share feeds with RtpFeedRegistry
// (rtp_feed_registry.hpp).
//
// SDP facts. `description()` (any thread) gives what the answer needs: our fixed
// payload types, SSRCs, clock rates, the source's profile-level-id, cname/msid. It is
// filled from the stream's current tracks at create(), so the WHEP handler can answer
// at once. PTs and SSRCs never change for the life of the feed (across anchor
// reconnects too); profile-level-id may change when the anchor republishes with other
// settings (browsers follow the in-band SPS). When the offer maps H.264 or Opus to a
// different PT than ours, the session rewrites byte 1 (PT bits) of its copy.
//
// Attaching. `attach(options)` returns an RtpFeedSubscription; destroying it detaches.
// Thread hand-off like the hub's: a bounded queue per subscription, filled on the
// feed's worker thread; `options.notify` is called from that thread on the
// empty→non-empty transition only (it must be cheap and thread-safe: uv_async_send /
// asio::post; never call back into the feed from it). The consumer drains with
// `pop_all` on its own thread, which re-arms notify. A queue past capacity drops its
// pending packets and the subscription restarts at the next keyframe replay (as for a
// PLI), counted in `dropped_packets()`.
//
// What a subscription receives, in order: the latest GOP's video packets starting at
// its keyframe (marked `replayed`), then live audio and video packets as they are
// built. With no keyframe yet, video starts at the first one. Audio starts live (no
// audio replay).
//
// PLI / FIR. `request_keyframe()` (the session's thread): the next delivery is the
// latest GOP again, from its keyframe, marked `replayed`. Those packets carry sequence
// numbers the viewer has already seen, so a session keeps its own outgoing sequence per
// SSRC: out_seq = feed_seq + offset, and at the first packet of a replay (a `replayed`
// packet with keyframe_start) it sets offset so that packet gets last_out_seq + 1. Live
// packets continue the replayed run contiguously, so the offset stays put until the
// next replay. RTP timestamps are left as built.
//
// NACK. `find(kind, feed_seq)` (any thread) returns a packet of the bounded per-SSRC
// history (the last kHistoryPackets packets) or null when it slid out. The session maps
// a NACKed out_seq back with its offset, and retransmits the packet with the same
// out_seq (no RTX).
//
// Cues. Each timed-metadata cue of the stream (hub MediaEvent::Type::cue) is stamped
// once on the worker with the video RTP timestamp of its pts (`FeedCue`, feed_cue.hpp)
// and queued to every subscription beside its packets (at most kMaxPendingCues; past
// that the oldest go: each cue is the whole overlay state). `pop_cues` drains them;
// notify fires for a cue as for a packet, and pop_all then pop_cues misses none.
// `latest_cue()` (any thread) is the newest, for a channel's snapshot when it opens.
//
// End. When the stream is removed the subscription's `ended()` turns true after the
// last packet (notify is called); a publisher leaving is not an end — packets resume
// when the anchor comes back, on the same SSRCs with contiguous sequence numbers.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "anchorcast/hub/hub.hpp"
#include "relay/egress/webrtc/feed/feed_cue.hpp"
#include "relay/egress/webrtc/feed/rtp_packet.hpp"
#include "relay/egress/webrtc/feed/webrtc_safe_video.hpp"

namespace anchorcast::webrtc {

// What an SDP answer needs from the feed. Values fixed for the life of a feed, except
// `profile_level_id` and `video`, which follow the source.
struct FeedDescription {
  bool has_video = false;
  bool has_audio = false;
  uint8_t video_payload_type = 102;  // H.264 packetization-mode=1
  uint8_t audio_payload_type = 111;  // opus/48000/2
  uint32_t video_ssrc = 0;
  uint32_t audio_ssrc = 0;
  static constexpr uint32_t kVideoClockRate = 90000;
  static constexpr uint32_t kAudioClockRate = 48000;
  static constexpr int kAudioChannels = 2;
  std::string profile_level_id = "42e01f";  // from the source's SPS when known
  std::string cname;         // a=ssrc:<ssrc> cname:<cname>
  std::string msid_stream;   // a=msid:<msid_stream> <msid_video_track|msid_audio_track>
  std::string msid_video_track;
  std::string msid_audio_track;
  // Passthrough, or transcoded to H.264 without B-frames (webrtc_safe_video.hpp).
  VideoDelivery video = VideoDelivery::none;
};

struct RtpFeedItem {
  RtpPacketPtr packet;
  bool replayed = false;  // part of a join or PLI replay of the latest GOP
};

struct RtpFeedSubscribeOptions {
  size_t queue_capacity = 4096;  // packets; past it the subscription restarts at a replay
  std::function<void()> notify;  // see the contract above
};

class RtpFeedQueue;
class RtpFeed;

// A session's end of the hand-off; destroying it detaches from the feed.
class RtpFeedSubscription {
 public:
  ~RtpFeedSubscription();
  RtpFeedSubscription(const RtpFeedSubscription&) = delete;
  RtpFeedSubscription& operator=(const RtpFeedSubscription&) = delete;

  // Appends every pending item to `out` (reuse `out`: no allocation once it has grown)
  // and re-arms notify. Returns how many were appended.
  size_t pop_all(std::vector<RtpFeedItem>& out);
  // Appends the cues queued since the last call, oldest first (see Cues above).
  size_t pop_cues(std::vector<FeedCuePtr>& out);
  // PLI/FIR: the latest GOP is delivered again, from its keyframe.
  void request_keyframe();
  bool ended() const;
  uint64_t dropped_packets() const;
  RtpFeed& feed() { return *feed_; }

 private:
  friend class RtpFeed;
  RtpFeedSubscription(std::shared_ptr<RtpFeed> feed, std::shared_ptr<RtpFeedQueue> queue)
      : feed_(std::move(feed)), queue_(std::move(queue)) {}
  std::shared_ptr<RtpFeed> feed_;
  std::shared_ptr<RtpFeedQueue> queue_;
};

struct RtpFeedStats {
  uint64_t video_packets = 0;
  uint64_t audio_packets = 0;
  uint64_t access_units = 0;
  uint64_t opus_frames = 0;
  uint64_t transcode_errors = 0;
  uint64_t cues = 0;
  uint64_t bad_cues = 0;  // json that is not an object: not forwarded
  int subscribers = 0;
  VideoDelivery video = VideoDelivery::none;
  bool transcoder_running = false;
  // Since the last subscription detached (0 while one is attached).
  std::chrono::steady_clock::duration idle{};
  bool ended = false;  // the stream was removed
};

class RtpFeed : public std::enable_shared_from_this<RtpFeed> {
 public:
  static constexpr size_t kHistoryPackets = 2048;  // per SSRC, for NACK
  static constexpr size_t kMaxPendingCues = 32;    // per subscription

  // Subscribes to `stream` and starts the worker. `label` names the feed in logs
  // ("demo/source"); `transcode` counts its WebRTC-safe transcode, if it needs one.
  static std::shared_ptr<RtpFeed> create(std::shared_ptr<Stream> stream, std::string label,
                                         TranscodeMetrics transcode = {});
  ~RtpFeed();
  RtpFeed(const RtpFeed&) = delete;
  RtpFeed& operator=(const RtpFeed&) = delete;

  FeedDescription description() const;
  std::unique_ptr<RtpFeedSubscription> attach(RtpFeedSubscribeOptions options);
  RtpPacketPtr find(MediaKind kind, uint16_t sequence) const;
  // The newest cue, or null before the first.
  FeedCuePtr latest_cue() const;
  RtpFeedStats stats() const;

 private:
  struct Worker;
  friend class RtpFeedSubscription;
  RtpFeed() = default;
  void detach(RtpFeedQueue* queue);
  void request_replay(RtpFeedQueue* queue);
  std::unique_ptr<Worker> worker_;
};

}  // namespace anchorcast::webrtc
