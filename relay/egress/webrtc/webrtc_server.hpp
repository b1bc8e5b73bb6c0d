// The WebRTC data plane: one UDP socket for every viewer. One I/O thread receives and
// demultiplexes (RFC 7983 first byte; STUN USERNAME on first contact, then the
// 5-tuple) and drives ICE-lite, DTLS, SRTCP in and the data channels; each session's
// media (SRTP out, retransmissions, sender reports) goes out from a MediaSender on one
// of the data-plane loops, dealt round robin, so media sending uses every core.
// Signalling (WHEP) adds and removes sessions from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "anchorcast/core/config.hpp"
#include "anchorcast/core/event_loop.hpp"
#include "anchorcast/core/metrics.hpp"
#include "anchorcast/core/result.hpp"
#include "relay/egress/webrtc/sctp_library.hpp"
#include "relay/egress/webrtc/sender_loop.hpp"
#include "relay/egress/webrtc/webrtc_session.hpp"

namespace anchorcast::webrtc {

class WebRtcServer {
 public:
  // `media_loops` (at least one) send the sessions' media; they outlive this server.
  WebRtcServer(Metrics& metrics, std::vector<EventLoop*> media_loops);
  ~WebRtcServer();  // stops
  WebRtcServer(const WebRtcServer&) = delete;
  WebRtcServer& operator=(const WebRtcServer&) = delete;

  // Makes the DTLS certificate and binds; the error names the key and port.
  // `udp_gso`: send equal-sized runs to one viewer as one GSO message where supported.
  Status listen(const ListenAddress& address, bool udp_gso = true);
  void start();  // the I/O thread
  // Closes every session (DTLS close_notify), joins, and waits until the media loops
  // let go of its senders (the loops keep running).
  void stop();

  // Read-only after listen(); any thread.
  const std::string& fingerprint_sha256() const;
  uint16_t port() const { return port_; }

  // Any thread. The session starts taking datagrams at the I/O thread's next wake-up.
  void add_session(SessionSetup setup);
  // Any thread. False when no such session of that stream is alive.
  bool remove_session(const std::string& stream_id, const std::string& session_id);
  size_t session_count() const { return live_sessions_.load(std::memory_order_relaxed); }
  // Sessions sending media, per media loop (any thread).
  std::vector<size_t> senders_per_loop() const;

 private:
  struct Drops;
  struct Entry;
  void run();
  void wake();
  void apply_commands();
  void read_datagrams();
  void dispatch(std::span<uint8_t> datagram, const PeerAddress& from);
  void on_stun(std::span<uint8_t> datagram, const PeerAddress& from);
  void deliver_cues();
  void tick();
  void erase_session(uint64_t handle, const std::string& why);
  Entry* by_address(const PeerAddress& from);

  Metrics& metrics_;
  std::unique_ptr<Drops> drops_;
  SessionCounters counters_;
  Counter& sessions_started_;
  Counter& sessions_ended_;
  Counter& wakes_;
  SendCounters send_counters_;  // every batch's SendReport adds to these

  std::unique_ptr<DtlsCertificate> certificate_;
  std::unique_ptr<DtlsContext> dtls_;
  // usrsctp for every session's data channel; outlives the sessions (declared before).
  std::unique_ptr<SctpLibrary> sctp_;
  std::unique_ptr<UdpSocket> socket_;
  std::vector<EventLoop*> media_loops_;
  std::vector<std::unique_ptr<SenderLoop>> sender_loops_;  // one per media loop, once listening
  size_t next_sender_loop_ = 0;                             // I/O thread: round robin
  bool udp_gso_ = true;
  uint16_t port_ = 0;
  int wake_fd_ = -1;
  std::thread thread_;
  std::atomic<bool> stopping_{false};

  // Signalling → I/O thread.
  struct Command {
    bool add = false;
    std::string session_id;
    std::unique_ptr<SessionSetup> setup;
  };
  std::mutex commands_mutex_;
  std::vector<Command> commands_;
  struct Known {
    std::string stream_id;
    uint64_t handle = 0;  // 0 until the I/O thread made the session
  };
  std::unordered_map<std::string, Known> known_;  // by session id; guarded by commands_mutex_
  uint64_t next_handle_ = 1;                          // guarded by commands_mutex_
  std::atomic<size_t> live_sessions_{0};

  // Senders → I/O thread: handles of sessions with overlay cues waiting.
  std::mutex ready_mutex_;
  std::vector<uint64_t> ready_;

  // I/O thread only.
  std::unordered_map<uint64_t, std::unique_ptr<Entry>> sessions_;
  std::unordered_map<std::string, uint64_t> by_ufrag_;
  std::unordered_map<PeerAddress, uint64_t, PeerAddressHash> by_address_;
  std::vector<uint64_t> ready_local_;
  SendBatch* batch_ = nullptr;  // run()'s batch while it runs
  std::unique_ptr<ReceiveBatch> receive_;
};

}  // namespace anchorcast::webrtc
