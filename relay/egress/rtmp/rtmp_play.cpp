#include "anchorcast/egress/rtmp_play.hpp"

#include <vector>

#include "relay/egress/rtmp/rtmp_framed_message.hpp"
#include "relay/egress/rtmp/rtmp_play_batch.hpp"
#include "relay/egress/rtmp/rtmp_viewer.hpp"
#include "relay/egress/viewer_pump.hpp"
#include "relay/protocol/rtmp/chunk_writer.hpp"

namespace anchorcast {

namespace {
constexpr size_t kViewerQueueCapacity = 1024;
}  // namespace

// ViewerPump's sink.
struct RtmpPlay::Impl {
  struct MediaWrite {
    uv_write_t req{};
    Impl* play = nullptr;  // null once the RtmpPlay is gone: the write finishes alone
    Counter* egress_bytes = nullptr;
    RtmpPlayBatch batch;
    std::vector<uv_buf_t> bufs;
  };

  Impl(uv_stream_t* socket, const rtmp::ChunkWriter& writer, uint32_t message_stream_id, FramedMessageCache& cache,
       Counter& egress_bytes, Hooks hooks)
      : socket_(socket),
        writer_(writer),
        cache_(cache),
        egress_bytes_(egress_bytes),
        hooks_(std::move(hooks)),
        viewer_(message_stream_id),
        media_(std::make_unique<MediaWrite>()) {
    media_->play = this;
    media_->egress_bytes = &egress_bytes_;
    media_->req.data = media_.get();
  }

  ~Impl() {
    pump_.detach();  // unsubscribes: no mark comes after this
    if (ready_) ready_->forget(*target_);
    // libuv still holds the write: its callback frees it (and counts what it sent).
    if (in_flight_) media_.release()->play = nullptr;
  }

  bool mux(const MediaEvent& event) {
    return viewer_.on_event(event, writer_, cache_, media_->batch) == RtmpViewer::Action::keep;
  }
  bool batch_empty() const { return media_->batch.empty(); }
  void end() { hooks_.ended(); }

  void write() {
    MediaWrite& w = *media_;
    w.bufs.clear();
    w.batch.for_each_span([&bufs = w.bufs](std::span<const uint8_t> span) {
      bufs.push_back(uv_buf_init(const_cast<char*>(reinterpret_cast<const char*>(span.data())),
                                 static_cast<unsigned>(span.size())));
    });
    // Straight to the socket first: a socket with room (a viewer that keeps up) takes the
    // batch in one writev with no request queued. uv_write would stop POLLOUT interest
    // when its queue drains, one epoll_ctl per write (measured: as many as the writes);
    // only a blocked socket pays for the interest now. Refused (UV_EAGAIN) while the
    // session's own replies are queued, so media never overtakes them.
    int sent = uv_try_write(socket_, w.bufs.data(), static_cast<unsigned>(w.bufs.size()));
    if (sent < 0 && sent != UV_EAGAIN) return hooks_.failed(uv_strerror(sent));
    size_t done = sent > 0 ? static_cast<size_t>(sent) : 0;
    if (done == w.batch.size_bytes()) {
      egress_bytes_.add(done);
      w.batch.clear();
      // Not pump() from here: events that came since this pump's pop have marked the
      // viewer ready again, and recursing would grow the stack under a fast publisher.
      return pump_.written(false);
    }
    skip_written(w.bufs, done);
    int rc = uv_write(&w.req, socket_, w.bufs.data(), static_cast<unsigned>(w.bufs.size()), &Impl::on_written);
    if (rc != 0) return hooks_.failed(uv_strerror(rc));
    in_flight_ = true;
  }

  // Drops the first `bytes` of the buffers (what a partial write took).
  static void skip_written(std::vector<uv_buf_t>& bufs, size_t bytes) {
    size_t whole = 0;
    while (whole < bufs.size() && bytes >= bufs[whole].len) bytes -= bufs[whole++].len;
    bufs.erase(bufs.begin(), bufs.begin() + static_cast<std::ptrdiff_t>(whole));
    if (bytes > 0) {
      bufs.front().base += bytes;
      bufs.front().len -= bytes;
    }
  }

  static void on_written(uv_write_t* req, int status) {
    auto* w = static_cast<MediaWrite*>(req->data);
    size_t bytes = w->batch.size_bytes();
    w->batch.clear();  // the packets can go now
    Impl* self = w->play;
    if (!self) {
      if (status >= 0) w->egress_bytes->add(bytes);
      delete w;
      return;
    }
    self->in_flight_ = false;
    if (status < 0) {
      // Cancelled: the session is closing its socket.
      if (status != UV_ECANCELED) self->hooks_.failed(uv_strerror(status));
      return;
    }
    self->egress_bytes_.add(bytes);
    self->pump_.written();
  }

  uv_stream_t* socket_;
  const rtmp::ChunkWriter& writer_;
  FramedMessageCache& cache_;
  Counter& egress_bytes_;
  Hooks hooks_;
  RtmpViewer viewer_;
  std::unique_ptr<MediaWrite> media_;  // reused; handed to libuv while in flight
  bool in_flight_ = false;
  ReadyList* ready_ = nullptr;
  ReadyTarget* target_ = nullptr;
  ViewerPump<Impl> pump_{*this};
};

RtmpPlayLoop::RtmpPlayLoop() : cache_(std::make_unique<FramedMessageCache>()) {}
RtmpPlayLoop::~RtmpPlayLoop() = default;
uint64_t RtmpPlayLoop::shared_messages() const { return cache_->hits(); }
uint64_t RtmpPlayLoop::framed_messages() const { return cache_->misses(); }

RtmpPlay::RtmpPlay(uv_stream_t* socket, const rtmp::ChunkWriter& writer, uint32_t message_stream_id,
                   RtmpPlayLoop& shared, Counter& egress_bytes, Hooks hooks)
    : impl_(std::make_unique<Impl>(socket, writer, message_stream_id, *shared.cache_, egress_bytes,
                                   std::move(hooks))) {}

RtmpPlay::~RtmpPlay() = default;

void RtmpPlay::start(Stream& stream, ReadyList& ready, ReadyTarget& target) {
  impl_->ready_ = &ready;
  impl_->target_ = &target;
  SubscribeOptions options;
  options.protocol = ViewerProtocol::rtmp;
  options.queue_capacity = kViewerQueueCapacity;
  // From the publisher's thread, under the queue's lock: a mark, no allocation.
  options.notify = [&ready, &target] { ready.mark(target); };
  impl_->pump_.attach(stream.subscribe(std::move(options)));
}

void RtmpPlay::pump() { impl_->pump_.pump(); }

}  // namespace anchorcast
