#include "anchorcast/egress/flv_viewer.hpp"

#include <unistd.h>

#include <atomic>
#include <unordered_map>
#include <utility>

#include "anchorcast/core/log.hpp"
#include "anchorcast/core/owned_fd.hpp"
#include "relay/egress/flv/flv_muxer.hpp"
#include "relay/egress/stream_writer.hpp"
#include "relay/egress/viewer_pump.hpp"

namespace anchorcast {

namespace {

// A viewer whose socket accepts nothing for this long is gone; the hub already skips
// slow ones to the next keyframe, this only reaps the dead.
constexpr uint64_t kWriteTimeoutMs = 20'000;

constexpr char kResponseHead[] =
    "HTTP/1.1 200 OK\r\n"
    "Server: anchorcast/" ANCHORCAST_VERSION
    "\r\n"
    "Content-Type: video/x-flv\r\n"
    "Cache-Control: no-cache\r\n"
    "Access-Control-Allow-Origin: *\r\n"
    "Connection: close\r\n"
    "\r\n";

// A socket on its way from the HTTP thread to a loop.
struct Handoff {
  OwnedFd fd;
  std::string remote;
  std::shared_ptr<Stream> stream;
};

}  // namespace

std::string_view flv_response_head() { return {kResponseHead, sizeof kResponseHead - 1}; }

class FlvViewer;

// The viewers one loop owns. Loop thread only, but for `count`.
struct FlvViewers::Loop {
  Loop(EventLoop& loop, Counter& egress_bytes) : loop(loop), egress_bytes(egress_bytes) {}
  void start(Handoff& handoff);
  void erase(FlvViewer* viewer);
  void close_all();

  EventLoop& loop;
  Counter& egress_bytes;
  std::unordered_map<FlvViewer*, std::unique_ptr<FlvViewer>> viewers;
  std::atomic<size_t> count{0};
  bool stopped = false;
  FramedTagCache tags;  // each media tag framed once for this loop's viewers
};

class FlvViewer final : public ReadyTarget, private StreamWriter<FlvBatch>::Listener {
 public:
  FlvViewer(FlvViewers::Loop& owner, std::string remote)
      : owner_(owner), remote_(std::move(remote)), out_(socket(), owner.egress_bytes, *this) {
    uv_tcp_init(owner.loop.uv(), &tcp_);
    uv_timer_init(owner.loop.uv(), &timer_);
    tcp_.data = this;
    timer_.data = this;
    head_req_.data = this;
  }

  // Takes `fd` (closed on failure) and plays `stream` on it.
  void start(int fd, Stream& stream) {
    if (int rc = uv_tcp_open(&tcp_, fd); rc != 0) {
      ::close(fd);
      log::warn("flv: ", remote_, ": cannot serve the socket: ", uv_strerror(rc));
      return close();
    }
    log::info("flv: ", remote_, " plays '", stream.id(), "'");
    stream_id_ = stream.id();
    SubscribeOptions options;
    options.protocol = ViewerProtocol::flv;
    // From the publisher's thread: a mark on the loop's ready list, no allocation.
    options.notify = [&ready = owner_.loop.ready(), this] { ready.mark(*this); };
    pump_.attach(stream.subscribe(std::move(options)));
    // The head's bytes are static: a plain uv_write, once per viewer.
    uv_buf_t head = uv_buf_init(const_cast<char*>(kResponseHead), sizeof kResponseHead - 1);
    if (int rc = uv_write(&head_req_, socket(), &head, 1, &FlvViewer::on_head_written); rc != 0) return finish();
    head_in_flight_ = true;
    uv_timer_start(&timer_, &FlvViewer::on_write_timeout, kWriteTimeoutMs, 0);
  }

  // Without the "left" line (the server is stopping, or the socket was never served).
  // The viewer is freed once libuv has closed its handles.
  void close() {
    if (closing_) return;
    closing_ = true;
    pump_.detach();  // unsubscribes: no mark comes after this
    owner_.loop.ready().forget(*this);
    uv_close(reinterpret_cast<uv_handle_t*>(&timer_), &FlvViewer::on_closed);
    uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), &FlvViewer::on_closed);
  }

 private:
  friend class ViewerPump<FlvViewer>;
  using Writer = StreamWriter<FlvBatch>;

  uv_stream_t* socket() { return reinterpret_cast<uv_stream_t*>(&tcp_); }

  void on_ready() override { pump(); }
  void pump() {
    if (!head_in_flight_ && !closing_) pump_.pump();
  }

  // ViewerPump's sink.
  bool mux(const MediaEvent& event) { return muxer_.on_event(event, out_.batch()); }
  bool batch_empty() const { return out_.batch().empty(); }
  void end() { finish(); }
  void write() {
    auto result = out_.write();
    switch (result.sent) {
      case Writer::Sent::all:
        // Not pump() from here: events that came since this pump's pop marked the viewer
        // ready again, and recursing would grow the stack under a fast publisher.
        return pump_.written(false);
      case Writer::Sent::queued:
        // Only a blocked socket arms the timer (no timer call per write).
        uv_timer_start(&timer_, &FlvViewer::on_write_timeout, kWriteTimeoutMs, 0);
        return;
      case Writer::Sent::failed:
        return finish();
    }
  }

  // The Writer's listener.
  void on_written() override {
    uv_timer_stop(&timer_);
    pump_.written();
  }
  void on_write_failed(int) override { finish(); }

  static void on_head_written(uv_write_t* req, int status) {
    auto* self = static_cast<FlvViewer*>(req->data);
    self->head_in_flight_ = false;
    if (status < 0 || self->closing_) return self->finish();
    uv_timer_stop(&self->timer_);
    self->pump();
  }

  static void on_write_timeout(uv_timer_t* timer) {
    auto* self = static_cast<FlvViewer*>(timer->data);
    log::info("flv: ", self->remote_, " accepted nothing for ", kWriteTimeoutMs / 1000, " s");
    self->finish();
  }

  static void on_closed(uv_handle_t* handle) {
    auto* self = static_cast<FlvViewer*>(handle->data);
    if (++self->closed_handles_ == 2) self->owner_.erase(self);  // destroys self
  }

  void finish() {
    if (closing_) return;
    log::info("flv: ", remote_, " left '", stream_id_, "'");
    close();
  }

  FlvViewers::Loop& owner_;
  std::string remote_;
  std::string stream_id_;
  uv_tcp_t tcp_{};
  uv_timer_t timer_{};
  uv_write_t head_req_{};
  FlvMuxer muxer_{&owner_.tags};
  Writer out_;
  ViewerPump<FlvViewer> pump_{*this};
  bool head_in_flight_ = false;
  bool closing_ = false;
  int closed_handles_ = 0;
};

void FlvViewers::Loop::start(Handoff& handoff) {
  if (stopped) return;  // the Handoff closes the socket
  auto owned = std::make_unique<FlvViewer>(*this, std::move(handoff.remote));
  FlvViewer* viewer = owned.get();
  viewers.emplace(viewer, std::move(owned));
  count.fetch_add(1, std::memory_order_relaxed);
  viewer->start(handoff.fd.release(), *handoff.stream);
}

void FlvViewers::Loop::erase(FlvViewer* viewer) {
  if (viewers.erase(viewer) > 0) count.fetch_sub(1, std::memory_order_relaxed);
}

void FlvViewers::Loop::close_all() {
  stopped = true;
  for (auto& [viewer, owned] : viewers) viewer->close();  // each erases itself once closed
}

FlvViewers::FlvViewers(std::vector<EventLoop*> loops, Metrics& metrics) {
  Counter& egress_bytes =
      metrics.counter("anchorcast_egress_bytes_total", "Media bytes sent to viewers", {{"protocol", "flv"}});
  for (EventLoop* loop : loops) loops_.add(std::make_shared<Loop>(*loop, egress_bytes));
}

FlvViewers::~FlvViewers() = default;

void FlvViewers::start(int fd, std::string remote, std::shared_ptr<Stream> stream) {
  auto handoff = std::make_shared<Handoff>(Handoff{OwnedFd(fd), std::move(remote), std::move(stream)});
  auto [loop, index] = loops_.deal();
  if (!loop) return;  // the Handoff closes the socket
  loop->loop.post([loop, handoff] { loop->start(*handoff); });
}

std::vector<size_t> FlvViewers::viewers_per_loop() const { return loops_.counts(); }

}  // namespace anchorcast
