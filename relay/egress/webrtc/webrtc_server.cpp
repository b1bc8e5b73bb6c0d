#include "relay/egress/webrtc/webrtc_server.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "anchorcast/core/log.hpp"
#include "relay/protocol/stun/stun_message.hpp"

namespace anchorcast::webrtc {

namespace {

constexpr const char* kDropHelp = "WebRTC datagrams dropped on the UDP port, by reason";
constexpr auto kTickInterval = std::chrono::milliseconds(50);
constexpr int kMaxReadBatchesPerWake = 16;  // then media gets its turn

Counter& drop_counter(Metrics& m, const char* reason) {
  return m.counter("anchorcast_webrtc_dropped_datagrams_total", kDropHelp, {{"reason", reason}});
}

}  // namespace

struct WebRtcServer::Drops {
  explicit Drops(Metrics& m)
      : stun_malformed(drop_counter(m, "stun_malformed")),
        stun_unknown_username(drop_counter(m, "stun_unknown_username")),
        stun_bad_integrity(drop_counter(m, "stun_bad_integrity")),
        stun_not_request(drop_counter(m, "stun_not_request")),
        dtls_unknown_peer(drop_counter(m, "dtls_unknown_peer")),
        rtp_unknown_peer(drop_counter(m, "rtp_unknown_peer")),
        rtp_from_viewer(drop_counter(m, "rtp_from_viewer")),
        unknown_protocol(drop_counter(m, "unknown_protocol")),
        truncated(drop_counter(m, "truncated")) {}
  Counter& stun_malformed;
  Counter& stun_unknown_username;
  Counter& stun_bad_integrity;
  Counter& stun_not_request;
  Counter& dtls_unknown_peer;
  Counter& rtp_unknown_peer;
  Counter& rtp_from_viewer;
  Counter& unknown_protocol;
  Counter& truncated;
};

struct WebRtcServer::Entry {
  std::unique_ptr<WebRtcSession> session;
  std::vector<PeerAddress> addresses;  // every address mapped to this session
};

WebRtcServer::WebRtcServer(Metrics& metrics, std::vector<EventLoop*> media_loops)
    : metrics_(metrics),
      drops_(std::make_unique<Drops>(metrics)),
      counters_{
          metrics.counter("anchorcast_webrtc_nacked_packets_total", "Packets WebRTC viewers asked again by NACK"),
          metrics.counter("anchorcast_webrtc_retransmissions_total",
                          "NACKed packets resent from the stream's packet history"),
          metrics.counter("anchorcast_webrtc_keyframe_requests_total",
                          "PLI and FIR from viewers (answered from the GOP cache, not the anchor)"),
          drop_counter(metrics, "rtcp_invalid"),
          drop_counter(metrics, "dtls_invalid"),
          metrics.counter("anchorcast_webrtc_dtls_failures_total",
                          "DTLS handshakes that failed (fingerprint mismatch, alerts, bad records)"),
          metrics.counter("anchorcast_webrtc_srtp_errors_total", "SRTP protect failures"),
          drop_counter(metrics, "sctp_invalid"),
          drop_counter(metrics, "dcep_invalid"),
          metrics.counter("anchorcast_webrtc_overlay_messages_total",
                          "Overlay cues and snapshots sent on WebRTC data channels"),
      },
      sessions_started_(metrics.counter("anchorcast_webrtc_sessions_started_total", "WHEP sessions created")),
      sessions_ended_(metrics.counter("anchorcast_webrtc_sessions_ended_total",
                                      "WHEP sessions ended (DELETE, consent lost, DTLS failure, stream removed)")),
      wakes_(metrics.counter("anchorcast_webrtc_loop_wakes_total",
                             "Times the WebRTC UDP thread woke (a datagram, a session's wake or its 50 ms tick)")),
      send_counters_{
          metrics.counter("anchorcast_egress_bytes_total", "Media bytes sent to viewers", {{"protocol", "webrtc"}}),
          metrics.counter("anchorcast_webrtc_send_failures_total", "Datagrams the kernel refused (socket buffer full)"),
          metrics.counter("anchorcast_webrtc_datagrams_sent_total", "UDP datagrams sent"),
          metrics.counter("anchorcast_webrtc_udp_messages_total",
                          "Messages handed to the kernel; below datagrams when GSO coalesces runs"),
      },
      media_loops_(std::move(media_loops)) {
  metrics.add_collector([this](MetricsWriter& w) {
    w.family("anchorcast_webrtc_sessions", "gauge", "Live WHEP sessions (ICE/DTLS in progress or playing)");
    w.sample("anchorcast_webrtc_sessions", {}, static_cast<double>(session_count()));
    w.family("anchorcast_webrtc_media_senders", "gauge",
             "WHEP sessions sending media (DTLS up), per data-plane loop");
    auto per_loop = senders_per_loop();
    for (size_t i = 0; i < per_loop.size(); ++i)
      w.sample("anchorcast_webrtc_media_senders", {{"loop", std::to_string(i)}}, static_cast<double>(per_loop[i]));
  });
}

std::vector<size_t> WebRtcServer::senders_per_loop() const {
  std::vector<size_t> out;
  for (const auto& l : sender_loops_) out.push_back(l->senders());
  return out;
}

WebRtcServer::~WebRtcServer() {
  stop();
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

const std::string& WebRtcServer::fingerprint_sha256() const { return certificate_->sha256_fingerprint(); }

Status WebRtcServer::listen(const ListenAddress& address, bool udp_gso) {
  udp_gso_ = udp_gso;
  auto cert = DtlsCertificate::generate();
  if (!cert) return make_error("webrtc: DTLS certificate: " + cert.error().message);
  certificate_ = std::make_unique<DtlsCertificate>(std::move(*cert));
  auto ctx = DtlsContext::create(*certificate_, DtlsRole::server);
  if (!ctx) return make_error("webrtc: " + ctx.error().message);
  dtls_ = std::make_unique<DtlsContext>(std::move(*ctx));
  if (!sctp_) sctp_ = std::make_unique<SctpLibrary>();
  auto socket = UdpSocket::bind(address);
  if (!socket) return socket.error();
  socket_ = std::make_unique<UdpSocket>(std::move(*socket));
  port_ = socket_->local_port();
  if (media_loops_.empty()) return make_error("webrtc: no data-plane loop to send media on");
  for (EventLoop* loop : media_loops_)
    sender_loops_.push_back(std::make_unique<SenderLoop>(*loop, *socket_, udp_gso_, send_counters_));
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) return make_error("webrtc: eventfd failed");
  return {};
}

void WebRtcServer::start() {
  if (!socket_ || thread_.joinable()) return;
  thread_ = std::thread([this] { run(); });
}

void WebRtcServer::stop() {
  if (!thread_.joinable()) return;
  stopping_.store(true);
  wake();
  thread_.join();
  for (auto& l : sender_loops_) l->close();
}

void WebRtcServer::wake() {
  uint64_t one = 1;
  ssize_t n = ::write(wake_fd_, &one, sizeof one);
  (void)n;  // EAGAIN: the counter is already non-zero, the loop wakes anyway
}

void WebRtcServer::add_session(SessionSetup setup) {
  {
    std::lock_guard lock(commands_mutex_);
    known_[setup.id] = Known{setup.stream_id, 0};
    Command c;
    c.add = true;
    c.session_id = setup.id;
    c.setup = std::make_unique<SessionSetup>(std::move(setup));
    commands_.push_back(std::move(c));
  }
  wake();
}

bool WebRtcServer::remove_session(const std::string& stream_id, const std::string& session_id) {
  {
    std::lock_guard lock(commands_mutex_);
    auto it = known_.find(session_id);
    if (it == known_.end() || it->second.stream_id != stream_id) return false;
    known_.erase(it);
    Command c;
    c.session_id = session_id;
    commands_.push_back(std::move(c));
  }
  wake();
  return true;
}

void WebRtcServer::apply_commands() {
  std::vector<Command> commands;
  {
    std::lock_guard lock(commands_mutex_);
    commands.swap(commands_);
  }
  auto now = WebRtcSession::Clock::now();
  for (auto& c : commands) {
    if (c.add) {
      uint64_t handle;
      {
        std::lock_guard lock(commands_mutex_);
        auto it = known_.find(c.session_id);
        if (it == known_.end()) continue;  // deleted before it started
        handle = it->second.handle = next_handle_++;
      }
      std::string stream_id = c.setup->stream_id;
      auto cues_ready = [this, handle] {
        bool first;
        {
          std::lock_guard lock(ready_mutex_);
          first = ready_.empty();
          ready_.push_back(handle);
        }
        // One eventfd write per batch of ready sessions, not per session: a cue reaches
        // every viewer of a stream at once.
        if (first) wake();
      };
      SenderLoop& sender_loop = *sender_loops_[next_sender_loop_++ % sender_loops_.size()];
      auto session = WebRtcSession::create(std::move(*c.setup), *dtls_, *sctp_, counters_, sender_loop,
                                           std::move(cues_ready), now);
      if (!session) {
        log::warn("webrtc: session for '", stream_id, "' not started: ", session.error().message);
        std::lock_guard lock(commands_mutex_);
        known_.erase(c.session_id);
        continue;
      }
      by_ufrag_[(*session)->ufrag()] = handle;
      auto entry = std::make_unique<Entry>();
      entry->session = std::move(*session);
      sessions_.emplace(handle, std::move(entry));
      sessions_started_.add();
      live_sessions_.store(sessions_.size(), std::memory_order_relaxed);
    } else {
      for (auto& [handle, entry] : sessions_) {
        if (entry->session->id() == c.session_id) {
          erase_session(handle, "ended by DELETE");
          break;
        }
      }
    }
  }
}

void WebRtcServer::erase_session(uint64_t handle, const std::string& why) {
  auto it = sessions_.find(handle);
  if (it == sessions_.end()) return;
  Entry& e = *it->second;
  SendBatch farewell(*socket_);
  e.session->close(farewell);
  farewell.flush();
  for (const auto& a : e.addresses) by_address_.erase(a);
  by_ufrag_.erase(e.session->ufrag());
  log::info("webrtc: session ", e.session->id(), " ended: ", why);
  {
    std::lock_guard lock(commands_mutex_);
    known_.erase(e.session->id());
  }
  sessions_.erase(it);
  sessions_ended_.add();
  live_sessions_.store(sessions_.size(), std::memory_order_relaxed);
}

WebRtcServer::Entry* WebRtcServer::by_address(const PeerAddress& from) {
  auto it = by_address_.find(from);
  if (it == by_address_.end()) return nullptr;
  auto s = sessions_.find(it->second);
  return s == sessions_.end() ? nullptr : s->second.get();
}

void WebRtcServer::on_stun(std::span<uint8_t> datagram, const PeerAddress& from) {
  auto message = stun::parse_stun(datagram);
  if (!message) return drops_->stun_malformed.add();
  uint64_t handle = 0;
  if (message->username) {
    // First contact (and every check after): our ufrag names the session.
    std::string ufrag(local_ufrag_of(*message->username));
    auto it = by_ufrag_.find(ufrag);
    if (it == by_ufrag_.end()) {
      // The viewer may be quicker than our wake-up: its answer left the HTTP thread
      // before this thread took the new session.
      apply_commands();
      it = by_ufrag_.find(ufrag);
    }
    if (it == by_ufrag_.end()) return drops_->stun_unknown_username.add();
    handle = it->second;
  } else if (auto known = by_address_.find(from); known != by_address_.end()) {
    handle = known->second;
  } else {
    return drops_->stun_unknown_username.add();
  }
  auto s = sessions_.find(handle);
  if (s == sessions_.end()) return drops_->stun_unknown_username.add();
  Entry& e = *s->second;
  auto check = e.session->on_stun(datagram, *message, from, WebRtcSession::Clock::now(), *batch_);
  switch (check) {
    case IceLiteAgent::Check::answered: {
      // A check signed with this session's ice-pwd proves the address is its own now,
      // even if a session that went quiet (its viewer gone, consent not yet expired)
      // had it: an ephemeral port is soon reused.
      auto [it, inserted] = by_address_.try_emplace(from, handle);
      if (inserted) {
        e.addresses.push_back(from);
      } else if (it->second != handle) {
        if (auto old = sessions_.find(it->second); old != sessions_.end())
          std::erase(old->second->addresses, from);
        it->second = handle;
        e.addresses.push_back(from);
      }
      break;
    }
    case IceLiteAgent::Check::bad_integrity:
      drops_->stun_bad_integrity.add();
      break;
    case IceLiteAgent::Check::wrong_username:
      drops_->stun_unknown_username.add();
      break;
    case IceLiteAgent::Check::not_a_request:
      drops_->stun_not_request.add();
      break;
  }
}

void WebRtcServer::dispatch(std::span<uint8_t> datagram, const PeerAddress& from) {
  if (datagram.empty()) return drops_->truncated.add();
  uint8_t first = datagram[0];
  // RFC 7983 7: 0-3 STUN, 20-63 DTLS, 128-191 RTP/RTCP.
  if (first <= 3) return on_stun(datagram, from);
  if (first >= 20 && first <= 63) {
    Entry* e = by_address(from);
    if (!e) return drops_->dtls_unknown_peer.add();
    return e->session->on_dtls(datagram, *batch_);
  }
  if (first >= 128 && first <= 191) {
    Entry* e = by_address(from);
    if (!e) return drops_->rtp_unknown_peer.add();
    // RFC 5761 4: RTCP packet types 192-223 share the port with RTP.
    if (datagram.size() >= 2 && datagram[1] >= 192 && datagram[1] <= 223)
      return e->session->on_rtcp(datagram);
    return drops_->rtp_from_viewer.add();
  }
  drops_->unknown_protocol.add();
}

void WebRtcServer::read_datagrams() {
  ReceiveBatch& batch = *receive_;
  for (int round = 0; round < kMaxReadBatchesPerWake; ++round) {
    size_t n = batch.receive(*socket_);
    for (size_t i = 0; i < n; ++i) {
      if (batch.truncated(i)) {
        drops_->truncated.add();
        continue;
      }
      dispatch(batch.datagram(i), batch.from(i));
    }
    if (n < ReceiveBatch::kDatagrams) return;
  }
}

void WebRtcServer::deliver_cues() {
  ready_local_.clear();
  {
    std::lock_guard lock(ready_mutex_);
    ready_local_.swap(ready_);
  }
  for (uint64_t handle : ready_local_) {
    auto it = sessions_.find(handle);
    if (it != sessions_.end()) it->second->session->deliver_cues(*batch_);
  }
}

void WebRtcServer::tick() {
  auto now = WebRtcSession::Clock::now();
  sctp_->advance(now);  // before the sessions' ticks, which send what its timers wrote
  std::vector<std::pair<uint64_t, std::string>> ended;
  for (auto& [handle, entry] : sessions_) {
    entry->session->on_tick(now, *batch_);
    if (auto why = entry->session->end_reason(now)) ended.emplace_back(handle, std::move(*why));
  }
  for (auto& [handle, why] : ended) erase_session(handle, why);
}

void WebRtcServer::run() {
  SendBatch batch(*socket_, udp_gso_);
  log::info("webrtc: UDP GSO ", batch.gso() ? "on" : socket_->gso_supported() ? "off (webrtc.udp_gso)" : "off (kernel)");
  SendReport report(send_counters_, batch);
  batch_ = &batch;
  receive_ = std::make_unique<ReceiveBatch>();
  auto next_tick = WebRtcSession::Clock::now() + kTickInterval;
  while (!stopping_.load()) {
    auto now = WebRtcSession::Clock::now();
    // Rounded up: truncated, the last millisecond before each tick became poll(0) in a
    // loop (measured: 11,700 wakes a second on an idle server).
    int wait_ms = static_cast<int>(
        std::max<int64_t>(0, std::chrono::ceil<std::chrono::milliseconds>(next_tick - now).count()));
    pollfd fds[2] = {{socket_->fd(), POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    ::poll(fds, 2, wait_ms);
    wakes_.add();
    if (fds[1].revents & POLLIN) {
      uint64_t value;
      ssize_t n = ::read(wake_fd_, &value, sizeof value);
      (void)n;
    }
    apply_commands();
    if (fds[0].revents & POLLIN) read_datagrams();
    deliver_cues();
    if (WebRtcSession::Clock::now() >= next_tick) {
      tick();
      next_tick = WebRtcSession::Clock::now() + kTickInterval;
    }
    batch.flush();
    report.update();
  }
  std::vector<uint64_t> handles;
  for (auto& [handle, entry] : sessions_) handles.push_back(handle);
  for (uint64_t h : handles) erase_session(h, "server stopping");
  batch.flush();
  batch_ = nullptr;
}

}  // namespace anchorcast::webrtc
