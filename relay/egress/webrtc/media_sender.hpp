// The send half of one WHEP viewer, on a data-plane loop: pops the stream's shared RTP
// packets, copies each into a send slot, rewrites PT and sequence number, seals it
// (SRTP) and queues it on its loop's batch; resends NACKed packets; sends the sender
// reports. The receive half (ICE, DTLS, SCTP, RTCP in) stays on the WebRTC I/O thread
// (`WebRtcSession`) and reaches this one only through the requests below, so viewers
// spread over every loop while the socket's receive side keeps one thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "anchorcast/core/ready_list.hpp"
#include "relay/egress/webrtc/feed/rtp_feed.hpp"
#include "relay/egress/webrtc/srtcp_cipher.hpp"
#include "relay/egress/webrtc/srtp_rtp_sealer.hpp"
#include "relay/egress/webrtc/udp_socket.hpp"
#include "relay/protocol/rtcp/rtcp_packet.hpp"

namespace anchorcast::webrtc {

class SenderLoop;
struct SessionCounters;

// What the session negotiated and keyed for its media (made at DTLS-connected).
struct MediaSenderSetup {
  std::shared_ptr<RtpFeed> feed;
  std::optional<uint8_t> video_payload_type;  // nullopt: that medium is not sent
  std::optional<uint8_t> audio_payload_type;
  SrtpRtpSealer sealer;          // media out
  SrtcpCipher report_cipher;     // sender reports out
  std::optional<PeerAddress> peer;  // ICE's selected address; nullopt until nominated
};

class MediaSender final : public ReadyTarget {
 public:
  // `cues_ready` (called on the loop thread): cues are waiting in take_cues().
  MediaSender(MediaSenderSetup setup, SenderLoop& loop, SessionCounters& counters,
              std::function<void()> cues_ready);
  ~MediaSender();
  MediaSender(const MediaSender&) = delete;
  MediaSender& operator=(const MediaSender&) = delete;

  // Any thread (the I/O thread): each marks this sender on its loop.
  void set_peer(const PeerAddress& peer);  // ICE moved to another address
  void request_retransmissions(std::span<const rtcp::Nack> nacks);  // one RTCP packet's NACKs
  void request_keyframe();  // PLI / FIR, already rate-limited by the session
  void report_due();        // time for the sender reports
  // The stream was removed: the session ends.
  bool ended() const { return ended_.load(std::memory_order_acquire); }
  // Moves the cues the loop popped since the last call into `out` (overlay data channel).
  void take_cues(std::vector<FeedCuePtr>& out);

  // The loop's thread (SenderLoop::adopt / retire post these).
  void start();  // attaches to the feed: the join replay goes out at once
  void stop();   // detaches (no notify after it) and leaves the loop's ready list
  void on_ready() override;

 private:
  struct OutgoingStream {  // one SSRC as this viewer sees it
    bool started = false;
    uint16_t offset = 0;  // out_seq = feed_seq + offset (see rtp_feed.hpp)
    uint16_t last_out_seq = 0;
    uint32_t packets = 0;
    uint32_t octets = 0;
    uint32_t last_timestamp = 0;
    int64_t last_wallclock_us = 0;
    uint32_t ssrc = 0;
  };
  // Cross-thread requests, taken in one lock per run.
  struct Inbox {
    std::optional<PeerAddress> peer;
    std::vector<rtcp::Nack> nacks;
    bool keyframe = false;
    bool report = false;
  };
  static constexpr size_t kMaxPendingNacks = 2048;  // past it, dropped until the loop took them

  template <typename Change>
  void request(Change change);  // under the lock, then marks
  void pump_media(SendBatch& out);
  bool send_rtp(const RtpPacket& packet, uint16_t out_seq, SendBatch& out);
  void resend(const rtcp::Nack& nack, SendBatch& out);
  void send_sender_reports(SendBatch& out);

  MediaSenderSetup setup_;
  SenderLoop& loop_;
  SessionCounters& counters_;
  std::function<void()> cues_ready_;

  std::mutex mutex_;
  Inbox inbox_;                   // guarded by mutex_
  std::vector<FeedCuePtr> cues_;  // guarded by mutex_: popped here, sent by the session
  std::atomic<bool> ended_{false};

  // Loop thread only.
  std::unique_ptr<RtpFeedSubscription> subscription_;
  Inbox taken_;
  std::vector<RtpFeedItem> items_;
  std::vector<FeedCuePtr> popped_cues_;
  std::vector<uint8_t> report_;
  OutgoingStream video_, audio_;
};

}  // namespace anchorcast::webrtc
