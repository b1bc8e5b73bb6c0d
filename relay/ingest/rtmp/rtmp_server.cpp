#include "anchorcast/ingest/rtmp_server.hpp"

#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "anchorcast/core/event_loop.hpp"
#include "anchorcast/core/log.hpp"
#include "relay/ingest/rtmp/rtmp_server_context.hpp"
#include "relay/ingest/rtmp/rtmp_session.hpp"

namespace anchorcast {

namespace {

constexpr int kBacklog = 128;
// Accepts per readiness: then the loop's sessions get their turn.
constexpr int kAcceptsPerWake = 64;
// Out of descriptors: stop accepting for this long (the listener stays readable, so
// accepting on would spin), then try again.
constexpr uint64_t kDescriptorBackoffMs = 200;

}  // namespace

// The listening socket on the first loop: accepts and deals sockets to the loops in
// turn. Raw accept4 on a polled descriptor, not uv_listen: libuv hands an accepted
// socket only to a handle of its own loop.
struct RtmpAcceptor {
  EventLoop* loop = nullptr;
  std::vector<std::shared_ptr<RtmpServerContext>> contexts;
  int fd = -1;
  uint16_t port = 0;
  uv_poll_t* poll = nullptr;    // heap: freed by its close callback
  uv_timer_t* pause = nullptr;  // heap: freed by its close callback
  size_t next = 0;
  bool closed = false;

  static void on_acceptable(uv_poll_t* handle, int status, int) {
    auto* self = static_cast<RtmpAcceptor*>(handle->data);
    if (status < 0) return log::warn("rtmp: accept error: ", uv_strerror(status));
    self->accept_some();
  }

  void accept_some() {
    for (int i = 0; i < kAcceptsPerWake && !closed; ++i) {
      int client = ::accept4(fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (client >= 0) {
        deal(client);
        continue;
      }
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        log::warn("rtmp: cannot accept (", uv_strerror(-errno), "); pausing for ", kDescriptorBackoffMs, " ms");
        uv_poll_stop(poll);
        uv_timer_start(pause, [](uv_timer_t* t) {
          auto* self = static_cast<RtmpAcceptor*>(t->data);
          if (!self->closed) uv_poll_start(self->poll, UV_READABLE, &RtmpAcceptor::on_acceptable);
        }, kDescriptorBackoffMs, 0);
        return;
      }
      log::warn("rtmp: accept error: ", uv_strerror(-errno));
      return;
    }
  }

  void deal(int client) {
    auto& ctx = contexts[next++ % contexts.size()];
    if (&ctx->loop == loop) return ctx->start_session(client);
    // If that loop has stopped, the task is dropped with the socket in it: only while
    // the server stops (the first loop, with this listener, stops first).
    ctx->loop.post([ctx, client] { ctx->start_session(client); });
  }

  // The first loop's thread.
  void close(std::shared_ptr<RtmpAcceptor> self) {
    if (closed) return;
    closed = true;
    if (!poll) return;
    // Both handles are freed when closed; the descriptor goes after the poll handle.
    auto* held = new std::shared_ptr<RtmpAcceptor>(std::move(self));
    poll->data = held;
    uv_close(reinterpret_cast<uv_handle_t*>(poll), [](uv_handle_t* h) {
      auto* owner = static_cast<std::shared_ptr<RtmpAcceptor>*>(h->data);
      ::close((*owner)->fd);
      (*owner)->fd = -1;
      delete reinterpret_cast<uv_poll_t*>(h);
      delete owner;
    });
    uv_close(reinterpret_cast<uv_handle_t*>(pause), [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
    poll = nullptr;
    pause = nullptr;
  }

  ~RtmpAcceptor() {
    if (fd >= 0) ::close(fd);  // never listened on a loop (a failed listen)
  }
};

RtmpServerContext::RtmpServerContext(EventLoop& l, Hub& h, Metrics& m)
    : loop(l),
      hub(h),
      ingest_bytes(m.counter("anchorcast_ingest_bytes_total", "Bytes received from publishers and players",
                             {{"protocol", "rtmp"}})),
      egress_bytes(m.counter("anchorcast_egress_bytes_total", "Bytes sent to viewers", {{"protocol", "rtmp"}})),
      protocol_errors(m.counter("anchorcast_rtmp_protocol_errors_total",
                                "RTMP connections closed for malformed input")),
      reject_bad_key(m.counter("anchorcast_publish_rejects_total", "Refused publish attempts",
                               {{"reason", "bad_key"}})),
      reject_already_live(m.counter("anchorcast_publish_rejects_total", "Refused publish attempts",
                                    {{"reason", "already_live"}})),
      reject_protocol_error(m.counter("anchorcast_publish_rejects_total", "Refused publish attempts",
                                      {{"reason", "protocol_error"}})) {}

void RtmpServerContext::start_session(int fd) {
  if (closed) {
    ::close(fd);
    return;
  }
  // The context owns sessions; each session co-owns the context, so it outlives the
  // RtmpServer object if it has to.
  auto session = std::make_shared<RtmpSession>(shared_from_this());
  sessions.emplace(session.get(), session);
  connections.store(sessions.size(), std::memory_order_relaxed);
  session->start(fd);
}

void RtmpServerContext::remove(RtmpSession* session) {
  sessions.erase(session);
  connections.store(sessions.size(), std::memory_order_relaxed);
}

void RtmpServerContext::close() {
  if (closed) return;
  closed = true;
  // close() erases from the map (now or in a close callback): iterate over a copy.
  std::vector<std::shared_ptr<RtmpSession>> all;
  all.reserve(sessions.size());
  for (auto& [ptr, s] : sessions) all.push_back(s);
  for (auto& s : all) s->close();
}

RtmpServer::RtmpServer(std::vector<EventLoop*> loops, Hub& hub, Metrics& metrics)
    : loops_(std::move(loops)), acceptor_(std::make_shared<RtmpAcceptor>()) {
  for (EventLoop* loop : loops_) contexts_.push_back(std::make_shared<RtmpServerContext>(*loop, hub, metrics));
  acceptor_->loop = loops_.front();
  acceptor_->contexts = contexts_;
}

RtmpServer::~RtmpServer() {
  for (size_t i = 0; i < loops_.size(); ++i) {
    EventLoop& loop = *loops_[i];
    auto ctx = contexts_[i];
    std::shared_ptr<RtmpAcceptor> acceptor = i == 0 ? acceptor_ : nullptr;
    auto close = [ctx, acceptor] {
      if (acceptor) acceptor->close(acceptor);
      ctx->close();
    };
    // Dropped if the loop has already stopped (then on_stop closed everything).
    if (loop.in_loop_thread()) {
      close();
    } else {
      loop.post(close);
    }
  }
}

Status RtmpServer::listen(const ListenAddress& addr) {
  auto fail = [&](int rc) { return make_error("rtmp.listen " + addr.to_string() + ": " + uv_strerror(rc)); };
  if (acceptor_->fd >= 0 || acceptor_->closed)
    return make_error("rtmp.listen " + addr.to_string() + ": already listening");
  sockaddr_storage sa{};
  bool v6 = addr.host.find(':') != std::string::npos;
  int rc = v6 ? uv_ip6_addr(addr.host.c_str(), addr.port, reinterpret_cast<sockaddr_in6*>(&sa))
              : uv_ip4_addr(addr.host.c_str(), addr.port, reinterpret_cast<sockaddr_in*>(&sa));
  if (rc != 0) return fail(rc);
  int fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail(-errno);
  int on = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);  // a restart need not wait out TIME_WAIT
  socklen_t sa_len = v6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&sa), sa_len) != 0 || ::listen(fd, kBacklog) != 0) {
    int err = errno;
    ::close(fd);
    return fail(-err);
  }
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
  acceptor_->port = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                                      : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  acceptor_->fd = fd;
  EventLoop& first = *loops_.front();
  acceptor_->poll = new uv_poll_t;
  acceptor_->pause = new uv_timer_t;
  uv_poll_init_socket(first.uv(), acceptor_->poll, fd);
  uv_timer_init(first.uv(), acceptor_->pause);
  acceptor_->poll->data = acceptor_.get();
  acceptor_->pause->data = acceptor_.get();
  uv_poll_start(acceptor_->poll, UV_READABLE, &RtmpAcceptor::on_acceptable);
  first.on_stop([acceptor = acceptor_] { acceptor->close(acceptor); });
  for (size_t i = 0; i < loops_.size(); ++i) loops_[i]->on_stop([ctx = contexts_[i]] { ctx->close(); });
  log::info("rtmp: listening on ", addr.host, ":", acceptor_->port,
            loops_.size() > 1 ? " (connections spread over " + std::to_string(loops_.size()) + " loops)" : "");
  return {};
}

uint16_t RtmpServer::port() const { return acceptor_->port; }

void RtmpServer::close() {
  acceptor_->close(acceptor_);
  contexts_.front()->close();
  for (size_t i = 1; i < loops_.size(); ++i) loops_[i]->post([ctx = contexts_[i]] { ctx->close(); });
}

std::vector<size_t> RtmpServer::connections_per_loop() const {
  std::vector<size_t> out;
  for (const auto& ctx : contexts_) out.push_back(ctx->connections.load(std::memory_order_relaxed));
  return out;
}

}  // namespace anchorcast
