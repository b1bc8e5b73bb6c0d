#include "anchorcast/egress/flv_viewer.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <vector>

#include "anchorcast/core/log.hpp"
#include "relay/egress/flv/flv_muxer.hpp"
#include "relay/egress/viewer_pump.hpp"

namespace anchorcast {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

namespace {

using Clock = std::chrono::steady_clock;

// A viewer whose socket accepts nothing for this long is gone; the hub already skips
// slow ones to the next keyframe, this only reaps the dead.
constexpr auto kWriteTimeout = std::chrono::seconds(20);

constexpr char kResponseHead[] =
    "HTTP/1.1 200 OK\r\n"
    "Server: anchorcast/" ANCHORCAST_VERSION
    "\r\n"
    "Content-Type: video/x-flv\r\n"
    "Cache-Control: no-cache\r\n"
    "Access-Control-Allow-Origin: *\r\n"
    "Connection: close\r\n"
    "\r\n";

}  // namespace

std::string_view flv_response_head() { return {kResponseHead, sizeof kResponseHead - 1}; }

class FlvViewer : public std::enable_shared_from_this<FlvViewer>, private ReadyTarget {
 public:
  FlvViewer(tcp::socket socket, std::string remote, FlvViewers& owner)
      : socket_(std::move(socket)), timer_(socket_.get_executor()), remote_(std::move(remote)), owner_(owner) {}

  void start(Stream& stream) {
    log::info("flv: ", remote_, " plays '", stream.id(), "'");
    stream_id_ = stream.id();
    SubscribeOptions options;
    options.protocol = ViewerProtocol::flv;
    // From the publisher's thread: a mark on the viewers' ready list, no allocation.
    options.notify = [this] { owner_.ready_.mark(*this); };
    pump_.attach(stream.subscribe(std::move(options)));
    head_in_flight_ = true;
    asio::async_write(socket_, asio::buffer(flv_response_head()), [self = shared_from_this()](error_code ec, size_t) {
      self->head_in_flight_ = false;
      if (ec) return self->finish();
      self->pump();
    });
    watch_writes(Clock::now() + kWriteTimeout);
  }

  // Without the "left" line: the server is stopping.
  void close() {
    error_code ec;
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
    timer_.cancel();
    pump_.detach();  // unsubscribes: no mark comes after this
    owner_.ready_.forget(*this);
  }

 private:
  friend class ViewerPump<FlvViewer>;

  void on_ready() override { pump(); }
  void pump() {
    if (!head_in_flight_) pump_.pump();
  }

  // ViewerPump's sink.
  bool mux(const MediaEvent& event) { return muxer_.on_event(event, batch_); }
  bool batch_empty() const { return batch_.empty(); }
  void end() { finish(); }
  void write() {
    buffers_.clear();
    for (const auto& span : batch_.spans()) buffers_.emplace_back(span.data(), span.size());
    write_deadline_ = Clock::now() + kWriteTimeout;
    asio::async_write(socket_, buffers_, [self = shared_from_this()](error_code ec, size_t) {
      if (ec) return self->finish();
      self->owner_.egress_bytes_.add(self->batch_.size_bytes());
      self->batch_.clear();  // the packets can go now
      self->pump_.written();
    });
  }

  // One timer per viewer, re-armed lazily (not per write): it wakes at most once per
  // timeout, and closes the socket when a write has been in flight for that long.
  void watch_writes(Clock::time_point at) {
    timer_.expires_at(at);
    timer_.async_wait([weak = weak_from_this()](error_code ec) {
      auto self = weak.lock();
      if (ec || !self || self->finished_) return;
      auto now = Clock::now();
      if (!self->pump_.writing()) return self->watch_writes(now + kWriteTimeout);
      if (now < self->write_deadline_) return self->watch_writes(self->write_deadline_);
      self->finish();
    });
  }

  void finish() {
    if (finished_) return;
    finished_ = true;
    log::info("flv: ", remote_, " left '", stream_id_, "'");
    close();
    owner_.viewers_.erase(shared_from_this());
  }

  tcp::socket socket_;
  asio::steady_timer timer_;
  std::string remote_;
  FlvViewers& owner_;
  std::string stream_id_;
  ViewerPump<FlvViewer> pump_{*this};
  FlvMuxer muxer_;
  FlvBatch batch_;
  std::vector<asio::const_buffer> buffers_;  // reused: no allocation per write
  Clock::time_point write_deadline_{};
  bool head_in_flight_ = false;
  bool finished_ = false;
};

FlvViewers::FlvViewers(Counter& egress_bytes, asio::any_io_executor executor)
    : egress_bytes_(egress_bytes),
      // One post per wake for all the viewers with new data, not one per viewer.
      ready_([this, executor] { asio::post(executor, [this] { ready_.drain(); }); }) {}

FlvViewers::~FlvViewers() = default;

void FlvViewers::start(tcp::socket socket, std::string remote, const std::shared_ptr<Stream>& stream) {
  auto viewer = std::make_shared<FlvViewer>(std::move(socket), std::move(remote), *this);
  viewers_.insert(viewer);
  viewer->start(*stream);
}

void FlvViewers::close_all() {
  auto viewers = std::move(viewers_);
  viewers_.clear();
  for (auto& v : viewers) v->close();
}

}  // namespace anchorcast
