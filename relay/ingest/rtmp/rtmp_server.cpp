#include "anchorcast/ingest/rtmp_server.hpp"

#include "anchorcast/core/event_loop.hpp"
#include "anchorcast/core/log.hpp"
#include "relay/ingest/rtmp/rtmp_server_context.hpp"
#include "relay/ingest/rtmp/rtmp_session.hpp"

namespace anchorcast {

namespace {

constexpr int kBacklog = 128;

void on_connection(uv_stream_t* listener, int status) {
  auto* ctx = static_cast<RtmpServerContext*>(listener->data);
  if (status < 0) {
    log::warn("rtmp: accept error: ", uv_strerror(status));
    return;
  }
  if (ctx->closed) return;
  // The context owns sessions; each session co-owns the context, so it outlives the
  // RtmpServer object if it has to.
  auto session = std::make_shared<RtmpSession>(ctx->shared_from_this());
  ctx->sessions.emplace(session.get(), session);
  session->start(listener);
}

}  // namespace

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

void RtmpServerContext::close() {
  if (closed) return;
  closed = true;
  if (listener) {
    uv_close(reinterpret_cast<uv_handle_t*>(listener), [](uv_handle_t* h) { delete reinterpret_cast<uv_tcp_t*>(h); });
    listener = nullptr;
  }
  // close() erases from the map (now or in a close callback): iterate over a copy.
  std::vector<std::shared_ptr<RtmpSession>> all;
  all.reserve(sessions.size());
  for (auto& [ptr, s] : sessions) all.push_back(s);
  for (auto& s : all) s->close();
}

RtmpServer::RtmpServer(EventLoop& loop, Hub& hub, Metrics& metrics)
    : loop_(loop), ctx_(std::make_shared<RtmpServerContext>(loop, hub, metrics)) {}

RtmpServer::~RtmpServer() {
  if (loop_.in_loop_thread()) {
    ctx_->close();
  } else {
    // Dropped if the loop has already stopped (then on_stop closed everything).
    loop_.post([ctx = ctx_] { ctx->close(); });
  }
}

Status RtmpServer::listen(const ListenAddress& addr) {
  auto fail = [&](int rc) {
    return make_error("rtmp.listen " + addr.to_string() + ": " + uv_strerror(rc));
  };
  sockaddr_storage sa{};
  int rc = addr.host.find(':') != std::string::npos
               ? uv_ip6_addr(addr.host.c_str(), addr.port, reinterpret_cast<sockaddr_in6*>(&sa))
               : uv_ip4_addr(addr.host.c_str(), addr.port, reinterpret_cast<sockaddr_in*>(&sa));
  if (rc != 0) return fail(rc);
  if (ctx_->listener) return make_error("rtmp.listen " + addr.to_string() + ": already listening");

  auto* tcp = new uv_tcp_t;
  uv_tcp_init(loop_.uv(), tcp);
  tcp->data = ctx_.get();
  auto discard = [tcp] {
    uv_close(reinterpret_cast<uv_handle_t*>(tcp), [](uv_handle_t* h) { delete reinterpret_cast<uv_tcp_t*>(h); });
  };
  // libuv reports EADDRINUSE from bind or, on some systems, only from listen.
  if ((rc = uv_tcp_bind(tcp, reinterpret_cast<const sockaddr*>(&sa), 0)) != 0 ||
      (rc = uv_listen(reinterpret_cast<uv_stream_t*>(tcp), kBacklog, &on_connection)) != 0) {
    discard();
    return fail(rc);
  }
  sockaddr_storage bound{};
  int len = sizeof bound;
  uv_tcp_getsockname(tcp, reinterpret_cast<sockaddr*>(&bound), &len);
  ctx_->port = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                                 : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  ctx_->listener = tcp;
  ctx_->closed = false;
  loop_.on_stop([ctx = ctx_] { ctx->close(); });
  log::info("rtmp: listening on ", addr.host, ":", ctx_->port);
  return {};
}

uint16_t RtmpServer::port() const { return ctx_->port; }

void RtmpServer::close() { ctx_->close(); }

}  // namespace anchorcast
