// The only translation unit that includes Boost.Beast (it is heavy to compile).
#include "anchorcast/http/http_server.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <sys/socket.h>

#include <future>
#include <set>
#include <thread>

#include "anchorcast/core/log.hpp"
#include "anchorcast/core/owned_fd.hpp"
#include "anchorcast/egress/flv_viewer.hpp"
#include "anchorcast/overlay/audience.hpp"
#include "relay/http/control_socket.hpp"
#include "relay/http/hls_connections.hpp"
#include "relay/http/hls_endpoint.hpp"
#include "relay/http/response_bytes.hpp"
#include "relay/http/router.hpp"

namespace anchorcast {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr size_t kMaxBodyBytes = 1 << 20;  // the largest request any endpoint accepts
constexpr auto kReadTimeout = std::chrono::seconds(30);

std::string endpoint_text(const tcp::endpoint& ep) {
  return ep.address().to_string() + ":" + std::to_string(ep.port());
}

}  // namespace

class HttpSession;

struct HttpServer::Impl {
  Impl(Hub& hub, Metrics& metrics, const Config& config, ControlPlane* control)
      : hub(hub),
        metrics(metrics),
        hls(hub, config.hls, [this](std::function<void()> task) { asio::post(io, std::move(task)); }),
        router(hub, metrics, hls, control),
        egress_hls_bytes(metrics.counter("anchorcast_egress_bytes_total", "Media bytes sent to viewers",
                                         {{"protocol", "hls"}})),
        http_requests(metrics.counter("anchorcast_http_requests_total", "HTTP requests handled")) {}

  void accept();
  void start_session(tcp::socket socket);
  // A connection the data plane hands back (HLS connections that asked for something else).
  void adopt(OwnedFd fd, std::string remote, std::string buffered);
  void push_stats();

  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  Hub& hub;
  Metrics& metrics;
  HlsEndpoint hls;
  Router router;
  Counter& egress_hls_bytes;
  Counter& http_requests;
  FlvViewers* flv = nullptr;                          // set before start()
  std::unique_ptr<HlsConnections> hls_connections;    // on the data plane; null without loops
  std::set<std::shared_ptr<HttpSession>> sessions;  // io thread only
  std::unique_ptr<ControlSockets> control_sockets;    // null without a ControlPlane
  std::unique_ptr<StatsPush> stats;                   // null without a ControlPlane
  asio::steady_timer stats_timer{io};
  std::thread thread;
  bool stopped = false;
};

class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(tcp::socket socket, HttpServer::Impl& server, std::string remote, std::string_view buffered = {})
      : stream_(std::move(socket)), server_(server), remote_(std::move(remote)) {
    buffer_.commit(asio::buffer_copy(buffer_.prepare(buffered.size()), asio::buffer(buffered)));
  }

  void start() { read(); }
  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
  }

 private:
  void read() {
    parser_.emplace();
    parser_->body_limit(kMaxBodyBytes);
    stream_.expires_after(kReadTimeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == asio::error::operation_aborted || ec == beast::error::timeout)
      return finish();
    if (ec) {
      // Malformed HTTP: answer once, clearly, and close.
      if (ec == http::error::body_limit) return reply_and_close(413, "request body over 1 MiB");
      if (ec.category() == http::make_error_code(http::error::bad_target).category())
        return reply_and_close(400, "malformed HTTP request: " + ec.message());
      return finish();
    }
    auto& req = parser_->get();
    server_.http_requests.add();
    HttpRequest request;
    request.method = std::string(req.method_string());
    auto target = parse_target(req.target());
    if (!target) return reply_and_close(400, "malformed request target");
    request.path = std::move(target->first);
    request.query = std::move(target->second);
    for (const auto& field : req) {
      std::string name(field.name_string());
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      request.headers.emplace_back(std::move(name), std::string(field.value()));
    }
    request.body = std::move(req.body());
    request.remote_address = remote_;
    keep_alive_ = req.keep_alive();
    head_ = req.method() == http::verb::head;

    if (server_.hls_connections && request.path.starts_with("/hls/")) {
      // The connection now belongs to a data-plane loop, which answers this request and
      // the player's next ones (and hands the socket back for anything but HLS).
      std::string unread = beast::buffers_to_string(buffer_.data());
      if (int fd = hand_over(); fd >= 0)
        server_.hls_connections->start(fd, std::move(request), keep_alive_, std::move(unread));
      return;
    }
    RouteResult result = server_.router.route(request);
    if (auto* flv = std::get_if<FlvPlayback>(&result)) {
      if (!server_.flv) return reply_and_close(503, "HTTP-FLV is not served here");
      // The socket now belongs to the FLV egress on a data-plane loop, which writes the
      // response itself.
      if (int fd = hand_over(); fd >= 0) server_.flv->start(fd, remote_, flv->stream);
      return;
    }
    if (auto* up = std::get_if<ControlUpgrade>(&result)) {
      if (!server_.control_sockets || server_.stopped) return reply_and_close(503, "shutting down");
      // The socket now belongs to the control session; this HTTP session ends quietly.
      server_.control_sockets->start(std::move(stream_), parser_->release(), std::move(up->stream_id), remote_);
      finished_ = true;
      server_.sessions.erase(shared_from_this());
      return;
    }
    if (auto* deferred = std::get_if<DeferredResponse>(&result)) {
      // Nothing is read meanwhile: the answer comes back to this thread, then the next request.
      deferred->start([&io = server_.io, self = shared_from_this()](std::function<HttpResponse()> answer) {
        asio::post(io, [self, answer = std::move(answer)] {
          HttpResponse r = answer();
          if (!self->finished_) self->write_response(std::move(r));
        });
      });
      return;
    }
    write_response(std::move(std::get<HttpResponse>(result)));
  }

  void write_response(HttpResponse r) {
    // The shared body goes out as it is: no copy into a Beast message.
    auto bytes = std::make_shared<ResponseBytes>(response_bytes(r, keep_alive_, head_));
    std::array<asio::const_buffer, 2> buffers{asio::buffer(bytes->head), asio::const_buffer()};
    if (bytes->body) buffers[1] = asio::buffer(*bytes->body);
    bool hls = r.content_type == "video/mp2t" || r.content_type == "video/mp4" ||
               r.content_type == "application/vnd.apple.mpegurl";
    if (hls && bytes->body) server_.egress_hls_bytes.add(bytes->body->size());
    asio::async_write(stream_, buffers, [self = shared_from_this(), bytes](beast::error_code ec, size_t) {
      if (ec || !self->keep_alive_) return self->finish();
      self->read();
    });
  }

  // The socket's descriptor, no longer this session's, which ends quietly; -1 (and the
  // session finished) when it cannot be released.
  int hand_over() {
    beast::error_code ec;
    int fd = stream_.release_socket().release(ec);
    if (ec) {
      finish();
      return -1;
    }
    finished_ = true;
    server_.sessions.erase(shared_from_this());
    return fd;
  }

  void reply_and_close(int status, std::string message) {
    keep_alive_ = false;
    write_response(HttpResponse::error(status, "bad_request", message));
  }

  void finish() {
    if (finished_) return;
    finished_ = true;
    close();
    server_.sessions.erase(shared_from_this());
  }

  beast::tcp_stream stream_;
  HttpServer::Impl& server_;
  std::string remote_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  bool keep_alive_ = false;
  bool head_ = false;
  bool finished_ = false;
};

void HttpServer::Impl::start_session(tcp::socket socket) {
  beast::error_code ec;
  auto remote = socket.remote_endpoint(ec);
  if (ec) return;  // the peer already left
  auto session = std::make_shared<HttpSession>(std::move(socket), *this, endpoint_text(remote));
  sessions.insert(session);
  session->start();
}

void HttpServer::Impl::adopt(OwnedFd fd, std::string remote, std::string buffered) {
  sockaddr_storage local{};
  socklen_t length = sizeof local;
  if (stopped || ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&local), &length) != 0) return;
  beast::error_code ec;
  tcp::socket socket(io);
  socket.assign(local.ss_family == AF_INET6 ? tcp::v6() : tcp::v4(), fd.get(), ec);
  if (ec) return;
  fd.release();  // the socket's now
  auto session = std::make_shared<HttpSession>(std::move(socket), *this, std::move(remote), buffered);
  sessions.insert(session);
  session->start();
}

// Merchants get viewer stats once a second (the contract's `stats` extension).
void HttpServer::Impl::push_stats() {
  stats_timer.expires_after(std::chrono::seconds(1));
  stats_timer.async_wait([this](beast::error_code ec) {
    if (ec || stopped) return;
    stats->tick();
    push_stats();
  });
}

void HttpServer::Impl::accept() {
  acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
    if (stopped) return;
    if (!ec) start_session(std::move(socket));
    // Drain the backlog now: the next completion would queue behind every pending
    // viewer write, and a burst of joins would wait seconds in the kernel's queue
    // (measured: ~37 accepts/s behind 2000 HTTP-FLV viewers).
    acceptor.non_blocking(true, ec);
    for (int i = 0; i < 256 && !ec; ++i) {
      tcp::socket next(io);
      acceptor.accept(next, ec);
      if (!ec) start_session(std::move(next));
    }
    accept();
  });
}

HttpServer::HttpServer(Hub& hub, Metrics& metrics, const Config& config, ControlPlane* control)
    : impl_(std::make_unique<Impl>(hub, metrics, config, control)) {
  if (control) {
    impl_->control_sockets = std::make_unique<ControlSockets>(impl_->io, *control);
    // What merchants see as "viewers": every playing session but SRT's, plus HLS clients.
    auto viewers = [&hls = impl_->hls](const StreamSnapshot& s) {
      auto at = [&](ViewerProtocol p) { return s.viewers[static_cast<int>(p)]; };
      return at(ViewerProtocol::webrtc) + hls.viewers(s.id) + at(ViewerProtocol::flv) + at(ViewerProtocol::rtmp);
    };
    impl_->stats = std::make_unique<StatsPush>(hub, viewers, impl_->router.viewer_events(), *control);
  }
  for (const auto& stream : hub.streams()) impl_->hls.attach(hub, stream->id());
}

HttpServer::~HttpServer() { stop(); }

Status HttpServer::listen(const ListenAddress& address) {
  std::string where = "http.listen " + address.to_string() + ": ";
  beast::error_code ec;
  auto ip = asio::ip::make_address(address.host, ec);
  if (ec) return make_error(where + "not an IP address");
  tcp::endpoint ep(ip, address.port);
  auto& a = impl_->acceptor;
  a.open(ep.protocol(), ec);
  if (!ec) a.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) a.bind(ep, ec);
  if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return make_error(where + ec.message());
  return {};
}

void HttpServer::start() {
  impl_->accept();
  if (impl_->stats) impl_->push_stats();
  impl_->thread = std::thread([this] { impl_->io.run(); });
}

void HttpServer::post(std::function<void()> task) { asio::post(impl_->io, std::move(task)); }

void HttpServer::set_whep(webrtc::WebRtcEgress* whep) { impl_->router.set_whep(whep); }

void HttpServer::set_flv(FlvViewers* flv) { impl_->flv = flv; }

void HttpServer::set_data_plane(std::vector<EventLoop*> loops) {
  auto serve = [&hls = impl_->hls](const HttpRequest& request) { return hls.route(request); };
  auto hand_back = [impl = impl_.get()](int fd, std::string remote, std::string buffered) {
    // The socket is closed if the HTTP thread is gone before the task runs.
    auto owned = std::make_shared<OwnedFd>(fd);
    asio::post(impl->io, [impl, owned, remote = std::move(remote), buffered = std::move(buffered)]() mutable {
      impl->adopt(std::move(*owned), std::move(remote), std::move(buffered));
    });
  };
  impl_->hls_connections =
      std::make_unique<HlsConnections>(std::move(loops), impl_->metrics, std::move(serve), std::move(hand_back));
}

std::vector<size_t> HttpServer::hls_connections_per_loop() const {
  return impl_->hls_connections ? impl_->hls_connections->connections_per_loop() : std::vector<size_t>{};
}

int HttpServer::hls_viewers(const std::string& stream_id) const { return impl_->hls.viewers(stream_id); }

void HttpServer::stop() {
  if (!impl_ || !impl_->thread.joinable()) return;
  if (impl_->control_sockets) {
    // Contract: on SIGTERM tell connected merchants (close frame 1001) before leaving.
    auto closed = std::make_shared<std::promise<void>>();
    auto future = closed->get_future();
    asio::post(impl_->io, [this, closed] {
      impl_->stopped = true;
      beast::error_code ec;
      impl_->acceptor.close(ec);
      impl_->control_sockets->close_all([closed] { closed->set_value(); });
    });
    future.wait_for(std::chrono::seconds(1));
  }
  asio::post(impl_->io, [this] {
    impl_->stopped = true;
    beast::error_code ec;
    impl_->acceptor.close(ec);
    impl_->stats_timer.cancel();
    auto sessions = impl_->sessions;  // finish() erases from the set
    for (auto& s : sessions) s->close();
    impl_->hls.close();
    impl_->io.stop();  // handlers still pending are destroyed with the io_context
  });
  impl_->thread.join();
  impl_->sessions.clear();
}

}  // namespace anchorcast
