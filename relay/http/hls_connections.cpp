#include "relay/http/hls_connections.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <variant>

#include "anchorcast/core/log.hpp"
#include "anchorcast/core/owned_fd.hpp"
#include "relay/http/response_bytes.hpp"
#include "relay/protocol/http1/request_head.hpp"

namespace anchorcast {

namespace {

// A socket on its way from the HTTP thread to a loop.
struct Handoff {
  OwnedFd fd;
  HttpRequest first;
  bool keep_alive;
  std::string buffered;
};

// The request as route handlers see it; nullopt when its target is not origin-form.
std::optional<HttpRequest> to_request(const http1::RequestHead& head, const std::string& remote) {
  auto target = parse_target(head.target);
  if (!target) return std::nullopt;
  HttpRequest request;
  request.method = std::string(head.method);
  request.path = std::move(target->first);
  request.query = std::move(target->second);
  for (const auto& [name, value] : head.fields) {
    std::string lower(name);
    for (auto& c : lower) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c | 0x20 : c);
    request.headers.emplace_back(std::move(lower), std::string(value));
  }
  request.remote_address = remote;
  return request;
}

}  // namespace

class HlsConnection;

// The connections one loop owns. Loop thread only, but for `count`.
struct HlsConnections::Loop {
  Loop(EventLoop& loop, Limits limits, Serve serve, HandBack hand_back, Counter& requests, Counter& egress_bytes)
      : loop(loop),
        limits(limits),
        serve(std::move(serve)),
        hand_back(std::move(hand_back)),
        requests(requests),
        egress_bytes(egress_bytes) {}
  void start(Handoff& handoff);
  void erase(HlsConnection* connection);
  void close_all();

  EventLoop& loop;
  const Limits limits;
  const Serve serve;
  const HandBack hand_back;
  Counter& requests;
  Counter& egress_bytes;
  std::unordered_map<HlsConnection*, std::unique_ptr<HlsConnection>> connections;
  std::atomic<size_t> count{0};
  bool stopped = false;
  // Every read on the loop lands here first and is appended to its connection's input at
  // once, so one buffer serves them all.
  std::array<char, 64 * 1024> read_buffer{};
};

class HlsConnection {
 public:
  HlsConnection(HlsConnections::Loop& owner, std::string remote) : owner_(owner), remote_(std::move(remote)) {
    uv_tcp_init(owner.loop.uv(), &tcp_);
    uv_timer_init(owner.loop.uv(), &timer_);
    tcp_.data = this;
    timer_.data = this;
    write_req_.data = this;
  }

  // Takes `fd` (closed on failure) and answers `first`, then the requests that follow.
  void start(int fd, const HttpRequest& first, bool keep_alive, std::string buffered) {
    if (int rc = uv_tcp_open(&tcp_, fd); rc != 0) {
      ::close(fd);
      log::warn("hls: ", remote_, ": cannot serve the socket: ", uv_strerror(rc));
      return close();
    }
    in_ = std::move(buffered);
    // Reading stays on between requests: no interest change per request.
    start_reading();
    if (closing_) return;
    respond(owner_.serve(first), keep_alive, first.method == "HEAD");
  }

  // The viewer is freed once libuv has closed its handles.
  void close() {
    if (closing_) return;
    closing_ = true;
    uv_close(reinterpret_cast<uv_handle_t*>(&timer_), &HlsConnection::on_closed);
    uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), &HlsConnection::on_closed);
  }

 private:
  uv_stream_t* socket() { return reinterpret_cast<uv_stream_t*>(&tcp_); }

  void respond(const HttpResponse& response, bool keep_alive, bool head_request) {
    out_ = response_bytes(response, keep_alive, head_request);
    keep_alive_ = keep_alive;
    std::array<uv_buf_t, 2> bufs{uv_buf_init(out_.head.data(), static_cast<unsigned>(out_.head.size())), uv_buf_t{}};
    unsigned count = 1;
    if (out_.body) {
      // libuv only reads the bytes; the shared body stays alive in out_ until written.
      bufs[1] = uv_buf_init(const_cast<char*>(out_.body->data()), static_cast<unsigned>(out_.body->size()));
      count = 2;
      if (response.status == 200) owner_.egress_bytes.add(out_.body->size());
    }
    if (uv_write(&write_req_, socket(), bufs.data(), count, &HlsConnection::on_written) != 0) return close();
    writing_ = true;
    awaiting_request_ = false;
    unwritten_at_check_ = uv_stream_get_write_queue_size(socket());
    uv_timer_start(&timer_, &HlsConnection::on_timer, owner_.limits.write_stall_ms, 0);
  }

  // Answers the buffered requests one at a time, until one is incomplete.
  void next() {
    if (writing_ || closing_) return;
    auto parsed = http1::parse_request_head(in_, owner_.limits.max_head_bytes);
    if (std::holds_alternative<http1::NeedMore>(parsed)) {
      if (eof_) return close();
      if (!reading_) start_reading();
      // The whole next head must come within the limit: bytes trickling in do not extend it.
      if (!awaiting_request_) uv_timer_start(&timer_, &HlsConnection::on_timer, owner_.limits.idle_ms, 0);
      awaiting_request_ = true;
      return;
    }
    if (auto* error = std::get_if<http1::HeadError>(&parsed)) {
      bool too_large = *error == http1::HeadError::too_large;
      log::info("hls: ", remote_, ": ", too_large ? "request head over the limit" : "malformed request head");
      return reply_and_close(too_large ? HttpResponse::error(431, "bad_request", "request head over " +
                                                                 std::to_string(owner_.limits.max_head_bytes) +
                                                                 " bytes")
                                       : HttpResponse::error(400, "bad_request", "malformed HTTP request"));
    }
    const auto& head = std::get<http1::RequestHead>(parsed);
    if (head.has_body() || head.target.substr(0, 5) != "/hls/") return hand_back();
    auto request = to_request(head, remote_);
    if (!request) return reply_and_close(HttpResponse::error(400, "bad_request", "malformed request target"));
    bool keep_alive = head.keep_alive();
    in_.erase(0, head.size);  // `head` points into in_: not used past here
    owner_.requests.add();
    respond(owner_.serve(*request), keep_alive, request->method == "HEAD");
  }

  void reply_and_close(const HttpResponse& response) {
    in_.clear();
    stop_reading();
    respond(response, false, false);
  }

  // The socket goes back to the HTTP thread with every byte not answered yet. A duplicate
  // descriptor keeps it open while libuv closes its own (which also leaves epoll).
  void hand_back() {
    uv_os_fd_t fd = -1;
    int copy = uv_fileno(reinterpret_cast<uv_handle_t*>(&tcp_), &fd) == 0 ? ::fcntl(fd, F_DUPFD_CLOEXEC, 0) : -1;
    if (copy < 0) {
      log::warn("hls: ", remote_, ": cannot hand the connection back: ", std::strerror(errno));
      return close();
    }
    stop_reading();
    owner_.hand_back(copy, remote_, std::move(in_));
    close();
  }

  void start_reading() {
    if (uv_read_start(socket(), &HlsConnection::on_alloc, &HlsConnection::on_read) != 0) return close();
    reading_ = true;
  }
  void stop_reading() {
    if (reading_) uv_read_stop(socket());
    reading_ = false;
  }

  static void on_alloc(uv_handle_t* handle, size_t, uv_buf_t* buf) {
    auto* self = static_cast<HlsConnection*>(handle->data);
    auto& b = self->owner_.read_buffer;
    *buf = uv_buf_init(b.data(), static_cast<unsigned>(b.size()));
  }

  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
    auto* self = static_cast<HlsConnection*>(stream->data);
    if (self->closing_) return;
    if (nread == UV_EOF) {
      // The player sent its last request; answer what is buffered, then close.
      self->eof_ = true;
      self->stop_reading();
      return self->next();
    }
    if (nread < 0) return self->close();
    self->in_.append(buf->base, static_cast<size_t>(nread));
    if (self->writing_) {
      // Pipelined requests wait for the answer in flight, up to one head's worth.
      if (self->in_.size() >= self->owner_.limits.max_head_bytes) self->stop_reading();
      return;
    }
    self->next();
  }

  static void on_written(uv_write_t* req, int status) {
    auto* self = static_cast<HlsConnection*>(req->data);
    self->writing_ = false;
    self->out_ = {};
    uv_timer_stop(&self->timer_);
    if (status < 0 || self->closing_ || !self->keep_alive_) return self->close();
    self->next();
  }

  static void on_timer(uv_timer_t* timer) {
    auto* self = static_cast<HlsConnection*>(timer->data);
    if (!self->writing_) return self->close();  // idle between requests
    size_t unwritten = uv_stream_get_write_queue_size(self->socket());
    if (unwritten < self->unwritten_at_check_) {
      self->unwritten_at_check_ = unwritten;
      uv_timer_start(timer, &HlsConnection::on_timer, self->owner_.limits.write_stall_ms, 0);
      return;
    }
    log::info("hls: ", self->remote_, " accepted nothing for ", self->owner_.limits.write_stall_ms / 1000, " s");
    self->close();
  }

  static void on_closed(uv_handle_t* handle) {
    auto* self = static_cast<HlsConnection*>(handle->data);
    if (++self->closed_handles_ == 2) self->owner_.erase(self);  // destroys self
  }

  HlsConnections::Loop& owner_;
  std::string remote_;
  uv_tcp_t tcp_{};
  uv_timer_t timer_{};
  uv_write_t write_req_{};
  std::string in_;     // read, not yet answered
  ResponseBytes out_;  // in flight
  size_t unwritten_at_check_ = 0;
  bool keep_alive_ = true;  // after the response in flight
  bool writing_ = false;
  bool awaiting_request_ = false;  // the idle timer runs for the next request
  bool reading_ = false;
  bool eof_ = false;
  bool closing_ = false;
  int closed_handles_ = 0;
};

void HlsConnections::Loop::start(Handoff& handoff) {
  if (stopped) return;  // the Handoff closes the socket
  auto owned = std::make_unique<HlsConnection>(*this, handoff.first.remote_address);
  HlsConnection* connection = owned.get();
  connections.emplace(connection, std::move(owned));
  count.fetch_add(1, std::memory_order_relaxed);
  connection->start(handoff.fd.release(), handoff.first, handoff.keep_alive, std::move(handoff.buffered));
}

void HlsConnections::Loop::erase(HlsConnection* connection) {
  if (connections.erase(connection) > 0) count.fetch_sub(1, std::memory_order_relaxed);
}

void HlsConnections::Loop::close_all() {
  stopped = true;
  for (auto& [connection, owned] : connections) connection->close();  // each erases itself once closed
}

HlsConnections::HlsConnections(std::vector<EventLoop*> loops, Metrics& metrics, Serve serve, HandBack hand_back,
                               Limits limits) {
  Counter& requests = metrics.counter("anchorcast_http_requests_total", "HTTP requests handled");
  Counter& egress_bytes =
      metrics.counter("anchorcast_egress_bytes_total", "Media bytes sent to viewers", {{"protocol", "hls"}});
  for (EventLoop* loop : loops)
    loops_.add(std::make_shared<Loop>(*loop, limits, serve, hand_back, requests, egress_bytes));
}

HlsConnections::~HlsConnections() = default;

void HlsConnections::start(int fd, HttpRequest first, bool keep_alive, std::string buffered) {
  auto handoff = std::make_shared<Handoff>(Handoff{OwnedFd(fd), std::move(first), keep_alive, std::move(buffered)});
  auto [loop, index] = loops_.deal();
  if (!loop) return;  // the Handoff closes the socket
  loop->loop.post([loop, handoff] { loop->start(*handoff); });
}

std::vector<size_t> HlsConnections::connections_per_loop() const { return loops_.counts(); }

}  // namespace anchorcast
