#include "anchorcast/ingest/srt_server.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <srt/access_control.h>
#include <srt/logging_api.h>
#include <srt/srt.h>
#include <syslog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "anchorcast/core/log.hpp"
#include "anchorcast/core/metrics.hpp"
#include "anchorcast/core/srt_handles.hpp"
#include "anchorcast/egress/srt_viewer.hpp"
#include "anchorcast/hub/hub.hpp"
#include "relay/ingest/srt/srt_ingest_metrics.hpp"
#include "relay/ingest/srt/srt_publisher.hpp"
#include "relay/ingest/srt/srt_stream_id.hpp"

namespace anchorcast {

namespace {

using Clock = std::chrono::steady_clock;

constexpr int kEpollWaitMs = 100;  // how fast close() is noticed
// A publisher that has sent nothing playable for this long is dropped: it would hold the
// stream "live" with no picture.
constexpr auto kNoTracksTimeout = std::chrono::seconds(10);

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch()).count();
}

std::string peer_to_string(const sockaddr* sa) {
  if (!sa) return "?";
  char host[INET6_ADDRSTRLEN] = "?";
  if (sa->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
    return std::string(host) + ":" + std::to_string(ntohs(in->sin_port));
  }
  if (sa->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
    // Appends rather than "[" + ...: GCC 12 warns (-Wrestrict) on that chain falsely.
    std::string out = "[";
    out += host;
    out += "]:";
    out += std::to_string(ntohs(in6->sin6_port));
    return out;
  }
  return "?";
}

// libsrt logs to stderr in its own format by default. Route it into ours: its errors
// (e.g. a caller with the wrong passphrase, which never reaches our handshake hook) as
// warnings; its warnings repeat what our own lines say about a refusal, so debug.
void on_libsrt_log(void*, int level, const char*, int, const char*, const char* message) {
  std::string_view text(message ? message : "");
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  while (!text.empty() && (text.front() == ':' || text.front() == ' ')) text.remove_prefix(1);
  const log::Level ours = level <= LOG_ERR ? log::Level::warn : log::Level::debug;
  log::emit(ours, "srt (libsrt): ", text);
}

void route_libsrt_logs() {
  static std::once_flag once;
  std::call_once(once, [] {
    srt_setloglevel(LOG_WARNING);
    srt_setlogflags(SRT_LOGF_DISABLE_TIME | SRT_LOGF_DISABLE_THREADNAME | SRT_LOGF_DISABLE_SEVERITY |
                    SRT_LOGF_DISABLE_EOL);
    srt_setloghandler(nullptr, &on_libsrt_log);
  });
}

struct Verdict {
  int reject_code = 0;  // 0: admit
  Counter* counter = nullptr;  // null for playback refusals (not publish attempts)
  std::string why;  // for the log; never contains the key
  bool playback = false;
};

}  // namespace

struct SrtServer::Impl {
  Impl(Hub& h, Metrics& m, std::vector<EventLoop*> viewer_loops)
      : hub(h), metrics(std::make_shared<SrtIngestMetrics>(m)), viewers(std::move(viewer_loops)) {
    route_libsrt_logs();
    // The collector holds its own reference: Metrics keeps collectors for its lifetime.
    m.add_collector([metrics = metrics](MetricsWriter& w) { metrics->collect(w); });
  }

  static int on_listen(void* opaque, SRTSOCKET ns, int hs_version, const sockaddr* peer, const char* stream_id);
  Verdict admit(std::string_view stream_id, int hs_version, std::shared_ptr<Stream>* stream_out);
  int64_t takeover_idle_ms() const { return std::max(1500, 4 * latency_ms); }
  void run();
  void accept_one();
  void start_session(SrtSocket socket, const std::string& peer);
  void start_viewer(SrtSocket socket, std::shared_ptr<Stream> stream, const std::string& peer);
  void end_publisher(SRTSOCKET s, std::string reason);

  Hub& hub;
  std::shared_ptr<SrtIngestMetrics> metrics;
  SrtLibrary library;  // before the handles: srt_cleanup() runs after they are closed
  SrtSocket listener;
  SrtEpoll epoll;
  std::thread thread;
  std::atomic<bool> stopping{false};
  std::string where;  // "HOST:PORT" for log lines
  uint16_t port = 0;
  int latency_ms = 120;
  // Adapter thread only.
  std::unordered_map<SRTSOCKET, std::unique_ptr<SrtPublisher>> publishers;
  // On the data-plane loops. Declared after `epoll`: destroyed (every viewer ended and
  // out of the epoll) before it.
  SrtViewers viewers;
};

// ------------------------------------------------------------------------------------
// Access control, in the handshake (libsrt's receiver thread)

Verdict SrtServer::Impl::admit(std::string_view stream_id, int hs_version, std::shared_ptr<Stream>* stream_out) {
  Verdict v;
  auto fail = [&](int code, Counter& counter, std::string why) {
    v.reject_code = code;
    v.counter = &counter;
    v.why = std::move(why);
    return v;
  };
  // HSv4 callers (libsrt < 1.3) cannot carry a streamid, so they cannot name a key.
  if (hs_version < 5) return fail(SRT_REJX_BAD_REQUEST, metrics->reject_bad_request, "SRT version too old to send a streamid");
  auto request = parse_srt_stream_id(stream_id);
  if (!request) return fail(SRT_REJX_BAD_REQUEST, metrics->reject_bad_request, request.error().message);
  if (request->mode == SrtStreamRequest::Mode::request) {
    // Playback by stream id, which is public (like /flv/{id}.flv). The id is not echoed
    // when unknown: a caller who put a publish key there would see it logged.
    v.playback = true;
    auto stream = hub.find(request->resource);
    if (!stream) {
      v.reject_code = SRT_REJX_NOTFOUND;
      v.why = "playback of an unknown stream id (" + std::to_string(request->resource.size()) + " chars)";
      return v;
    }
    if (!stream->live()) {
      v.reject_code = SRT_REJX_NOTFOUND;
      v.why = "playback of stream '" + stream->id() + "', which is not live";
      return v;
    }
    if (stream_out) *stream_out = std::move(stream);
    return v;
  }
  if (request->mode != SrtStreamRequest::Mode::publish)
    return fail(SRT_REJX_BAD_MODE, metrics->reject_unsupported_mode,
                "m=bidirectional is not offered: publish with m=publish, play with m=request");
  auto stream = hub.find_by_publish_key(request->resource);
  if (!stream)
    return fail(SRT_REJX_FORBIDDEN, metrics->reject_bad_key,
                std::string("unknown publish key (") + (request->access_control ? "#!:: form" : "plain streamid") +
                    ", " + std::to_string(request->resource.size()) + " chars)");
  if (stream->live()) {
    // An SRT publisher that went silent (anchor's network switched, caller crashed) is
    // only noticed by SRT after its peer idle timeout (5 s); a reconnecting anchor may
    // take its place sooner. A publisher that is still sending keeps the stream.
    const int64_t idle = metrics->idle_ms(stream->id(), now_ms());
    if (idle < takeover_idle_ms())
      return fail(SRT_REJX_CONFLICT, metrics->reject_already_live,
                  "stream '" + stream->id() + "' already has a live publisher");
  }
  if (stream_out) *stream_out = std::move(stream);
  return v;
}

int SrtServer::Impl::on_listen(void* opaque, SRTSOCKET ns, int hs_version, const sockaddr* peer,
                               const char* stream_id) {
  auto* self = static_cast<Impl*>(opaque);
  Verdict v = self->admit(stream_id ? std::string_view(stream_id) : std::string_view{}, hs_version, nullptr);
  if (v.reject_code == 0) return 0;
  // access_control.h: the code reaches the caller in the handshake rejection.
  srt_setrejectreason(ns, v.reject_code);
  if (v.counter) v.counter->add();
  log::warn("srt ", peer_to_string(peer), ": ", v.playback ? "playback" : "publish", " refused (", v.reject_code,
            "): ", v.why);
  return -1;
}

// ------------------------------------------------------------------------------------
// The adapter thread

void SrtServer::Impl::run() {
  std::vector<SRT_EPOLL_EVENT> ready(64);
  auto last_check = Clock::now();
  while (!stopping.load(std::memory_order_relaxed)) {
    const int n = srt_epoll_uwait(epoll.get(), ready.data(), static_cast<int>(ready.size()), kEpollWaitMs);
    if (n < 0 && srt_getlasterror(nullptr) != SRT_ETIMEOUT) {
      // Not expected while the listener is in the set; never spin on it.
      log::warn("srt: epoll wait failed: ", srt_getlasterror_str());
      std::this_thread::sleep_for(std::chrono::milliseconds(kEpollWaitMs));
    }
    for (int i = 0; i < n; ++i) {
      const SRTSOCKET s = ready[i].fd;
      if (s == listener.get()) {
        if (ready[i].events & SRT_EPOLL_IN) accept_one();
        continue;
      }
      auto it = publishers.find(s);
      if (it == publishers.end()) {
        // Else a viewer's (its loop ends it), or one that already ended.
        if (ready[i].events & SRT_EPOLL_ERR)
          viewers.broken(s, srt_getsockstate(s) == SRTS_BROKEN ? "connection broken" : "peer closed");
        continue;
      }
      bool alive = true;
      if (ready[i].events & SRT_EPOLL_IN) alive = it->second->on_readable();
      if (alive && (ready[i].events & SRT_EPOLL_ERR)) {
        // Drain what arrived before the break, then end.
        it->second->on_readable();
        alive = false;
        it->second->set_end_reason(srt_getsockstate(s) == SRTS_BROKEN ? "connection broken" : "peer closed");
      }
      if (!alive) end_publisher(s, {});
    }
    if (Clock::now() - last_check > std::chrono::seconds(1)) {
      last_check = Clock::now();
      std::vector<SRTSOCKET> silent;
      for (const auto& [s, p] : publishers)
        if (!p->has_tracks() && Clock::now() - p->started() > kNoTracksTimeout) silent.push_back(s);
      for (SRTSOCKET s : silent)
        end_publisher(s, "no H.264/HEVC/AAC in its MPEG-TS for 10 s (is it sending MPEG-TS?)");
    }
  }
  viewers.close_all();
  while (!publishers.empty()) end_publisher(publishers.begin()->first, "server stopping");
}

void SrtServer::Impl::accept_one() {
  // One per wake-up: SRT epoll is level-triggered, so another pending connection wakes
  // us again, and an extra srt_accept on an empty backlog only makes libsrt log an error.
  sockaddr_storage addr{};
  int len = sizeof addr;
  SRTSOCKET s = srt_accept(listener.get(), reinterpret_cast<sockaddr*>(&addr), &len);
  if (s == SRT_INVALID_SOCK) {
    if (srt_getlasterror(nullptr) != SRT_EASYNCRCV) log::warn("srt: accept failed: ", srt_getlasterror_str());
    return;
  }
  start_session(SrtSocket(s), peer_to_string(reinterpret_cast<const sockaddr*>(&addr)));
}

void SrtServer::Impl::start_session(SrtSocket socket, const std::string& peer) {
  char id[kSrtMaxStreamIdSize + 1] = {};
  int id_len = sizeof id - 1;
  if (srt_getsockflag(socket.get(), SRTO_STREAMID, id, &id_len) != 0) id_len = 0;
  // The handshake admitted it; check again, the stream may have changed since.
  std::shared_ptr<Stream> stream;
  Verdict v = admit(std::string_view(id, static_cast<size_t>(std::max(id_len, 0))), 5, &stream);
  if (v.playback) {
    if (v.reject_code == 0) return start_viewer(std::move(socket), std::move(stream), peer);
    log::warn("srt ", peer, ": playback refused after the handshake: ", v.why);
    return;
  }
  std::unique_ptr<StreamPublisher> publisher;
  if (v.reject_code == 0) {
    auto begun = stream->begin_publish("srt");
    if (!begun.ok()) {
      // Admitted as a takeover of a silent SRT publisher of ours: end that one now.
      for (auto& [s, p] : publishers) {
        if (p->stream_id() == stream->id()) {
          end_publisher(s, "replaced by a new connection after " +
                               std::to_string(metrics->idle_ms(stream->id(), now_ms())) + " ms of silence");
          break;
        }
      }
      begun = stream->begin_publish("srt");
    }
    if (begun.ok()) {
      publisher = std::move(begun.value());
    } else {
      v = Verdict{SRT_REJX_CONFLICT, &metrics->reject_already_live, begun.error().message};
    }
  }
  if (!publisher) {
    v.counter->add();
    log::warn("srt ", peer, ": publish refused after the handshake: ", v.why);
    return;  // `socket` closes
  }
  const bool nonblocking = false;
  srt_setsockflag(socket.get(), SRTO_RCVSYN, &nonblocking, sizeof nonblocking);
  const int events = SRT_EPOLL_IN | SRT_EPOLL_ERR;
  if (srt_epoll_add_usock(epoll.get(), socket.get(), &events) != 0) {
    log::warn("srt ", peer, ": cannot watch the connection: ", srt_getlasterror_str());
    return;
  }
  const SRTSOCKET s = socket.get();
  publishers.emplace(s, std::make_unique<SrtPublisher>(std::move(socket), std::move(publisher), peer, metrics));
}

void SrtServer::Impl::start_viewer(SrtSocket socket, std::shared_ptr<Stream> stream, const std::string& peer) {
  const bool nonblocking = false;
  srt_setsockflag(socket.get(), SRTO_SNDSYN, &nonblocking, sizeof nonblocking);
  // A viewer sends nothing we read: this thread only sees its connection break.
  const int events = SRT_EPOLL_ERR;
  if (srt_epoll_add_usock(epoll.get(), socket.get(), &events) != 0) {
    log::warn("srt ", peer, ": cannot watch the connection: ", srt_getlasterror_str());
    return;
  }
  viewers.start(std::move(socket), std::move(stream), peer, epoll.get());
}

void SrtServer::Impl::end_publisher(SRTSOCKET s, std::string reason) {
  auto it = publishers.find(s);
  if (it == publishers.end()) return;
  if (!reason.empty()) it->second->set_end_reason(std::move(reason));
  srt_epoll_remove_usock(epoll.get(), s);
  publishers.erase(it);  // ~SrtPublisher: ends the hub session, logs, closes the socket
}

// ------------------------------------------------------------------------------------

SrtServer::SrtServer(Hub& hub, Metrics& metrics, std::vector<EventLoop*> viewer_loops)
    : impl_(std::make_unique<Impl>(hub, metrics, std::move(viewer_loops))) {}

std::vector<size_t> SrtServer::viewers_per_loop() const { return impl_->viewers.viewers_per_loop(); }

SrtServer::~SrtServer() { close(); }

uint16_t SrtServer::port() const { return impl_->port; }

Status SrtServer::listen(const ListenAddress& addr, int latency_ms, std::string passphrase) {
  Impl& m = *impl_;
  const std::string where = addr.to_string();
  auto error = [&](const std::string& reason) { return make_error("srt.listen " + where + ": " + reason); };
  if (m.listener) return error("already listening");
  if (latency_ms < 0 || latency_ms > 60000) return error("latency_ms must be 0..60000, not " + std::to_string(latency_ms));
  if (!passphrase.empty() && (passphrase.size() < 10 || passphrase.size() > 79))
    return error("passphrase must be 10..79 characters (SRTO_PASSPHRASE), not " + std::to_string(passphrase.size()));

  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string port_text = std::to_string(addr.port);
  if (int rc = getaddrinfo(addr.host.empty() ? nullptr : addr.host.c_str(), port_text.c_str(), &hints, &found); rc != 0)
    return error(std::string("cannot resolve host: ") + gai_strerror(rc));
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> ai(found, &freeaddrinfo);

  SrtSocket sock(srt_create_socket());
  if (!sock) return error(std::string("cannot create socket: ") + srt_getlasterror_str());
  auto set = [&](SRT_SOCKOPT opt, const void* value, int len) { return srt_setsockflag(sock.get(), opt, value, len) == 0; };
  const bool nonblocking = false;
  const int ipv6_only = 0;
  // Accepted sockets inherit these from the listener. SRTO_LATENCY sets both our receive
  // latency and the minimum we ask of the peer; the handshake takes the larger value of
  // both sides for each direction (SRT RFC draft §4.5 "TSBPD").
  bool ok = set(SRTO_RCVSYN, &nonblocking, sizeof nonblocking) && set(SRTO_LATENCY, &latency_ms, sizeof latency_ms) &&
            set(SRTO_RCVLATENCY, &latency_ms, sizeof latency_ms);
  if (ok && ai->ai_family == AF_INET6) ok = set(SRTO_IPV6ONLY, &ipv6_only, sizeof ipv6_only);
  if (ok && !passphrase.empty()) ok = set(SRTO_PASSPHRASE, passphrase.data(), static_cast<int>(passphrase.size()));
  if (!ok) return error(std::string("cannot set socket options: ") + srt_getlasterror_str());
  if (srt_bind(sock.get(), ai->ai_addr, static_cast<int>(ai->ai_addrlen)) != 0)
    return error(std::string("cannot bind: ") + srt_getlasterror_str());
  m.latency_ms = latency_ms;  // the hook reads it from libsrt's thread from now on
  // The hook must be in place before srt_listen (api-functions.md, srt_listen_callback).
  if (srt_listen_callback(sock.get(), &Impl::on_listen, &m) != 0 || srt_listen(sock.get(), 16) != 0)
    return error(std::string("cannot listen: ") + srt_getlasterror_str());

  sockaddr_storage bound{};
  int bound_len = sizeof bound;
  if (srt_getsockname(sock.get(), reinterpret_cast<sockaddr*>(&bound), &bound_len) == 0) {
    const auto* sa = reinterpret_cast<const sockaddr*>(&bound);
    m.port = sa->sa_family == AF_INET6 ? ntohs(reinterpret_cast<const sockaddr_in6*>(sa)->sin6_port)
                                       : ntohs(reinterpret_cast<const sockaddr_in*>(sa)->sin_port);
  }
  if (!m.epoll.create()) return error(std::string("cannot create epoll: ") + srt_getlasterror_str());
  const int events = SRT_EPOLL_IN | SRT_EPOLL_ERR;
  if (srt_epoll_add_usock(m.epoll.get(), sock.get(), &events) != 0) {
    m.epoll.reset();
    return error(std::string("cannot watch the listener: ") + srt_getlasterror_str());
  }
  m.listener = std::move(sock);
  m.where = addr.host + ":" + std::to_string(m.port);
  m.stopping = false;
  m.thread = std::thread([&m] { m.run(); });
  log::info("srt: listening on ", m.where, " (latency ", latency_ms, " ms, ",
            passphrase.empty() ? "no encryption" : "AES passphrase", ")");
  return {};
}

void SrtServer::close() {
  Impl& m = *impl_;
  if (!m.thread.joinable() && !m.listener) return;
  m.stopping = true;
  if (m.thread.joinable()) m.thread.join();  // ends every publisher on its own thread
  // Closing the listener takes libsrt's listener lock, which the handshake hook runs
  // under: after this no on_listen call can be in flight.
  m.listener.reset();
  m.epoll.reset();
  log::info("srt: stopped listening on ", m.where);
}

}  // namespace anchorcast
