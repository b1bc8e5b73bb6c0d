#include "anchorcast/egress/rtmp_play.hpp"

#include <vector>

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

  Impl(uv_stream_t* socket, const rtmp::ChunkWriter& writer, uint32_t message_stream_id, Counter& egress_bytes,
       Hooks hooks)
      : socket_(socket),
        writer_(writer),
        egress_bytes_(egress_bytes),
        hooks_(std::move(hooks)),
        viewer_(message_stream_id),
        media_(std::make_unique<MediaWrite>()) {
    media_->play = this;
    media_->egress_bytes = &egress_bytes_;
    media_->req.data = media_.get();
  }

  ~Impl() {
    pump_.detach();
    // libuv still holds the write: its callback frees it (and counts what it sent).
    if (in_flight_) media_.release()->play = nullptr;
  }

  bool mux(const MediaEvent& event) {
    return viewer_.on_event(event, writer_, media_->batch) == RtmpViewer::Action::keep;
  }
  bool batch_empty() const { return media_->batch.empty(); }
  void end() { hooks_.ended(); }

  void write() {
    MediaWrite& w = *media_;
    w.bufs.clear();
    for (auto span : w.batch.spans())
      w.bufs.push_back(uv_buf_init(const_cast<char*>(reinterpret_cast<const char*>(span.data())),
                                   static_cast<unsigned>(span.size())));
    int rc = uv_write(&w.req, socket_, w.bufs.data(), static_cast<unsigned>(w.bufs.size()), &Impl::on_written);
    if (rc != 0) return hooks_.failed(uv_strerror(rc));
    in_flight_ = true;
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
  Counter& egress_bytes_;
  Hooks hooks_;
  RtmpViewer viewer_;
  std::unique_ptr<MediaWrite> media_;  // reused; handed to libuv while in flight
  bool in_flight_ = false;
  ViewerPump<Impl> pump_{*this};
};

RtmpPlay::RtmpPlay(uv_stream_t* socket, const rtmp::ChunkWriter& writer, uint32_t message_stream_id,
                   Counter& egress_bytes, Hooks hooks)
    : impl_(std::make_unique<Impl>(socket, writer, message_stream_id, egress_bytes, std::move(hooks))) {}

RtmpPlay::~RtmpPlay() = default;

void RtmpPlay::start(Stream& stream, std::function<void()> notify) {
  SubscribeOptions options;
  options.protocol = ViewerProtocol::rtmp;
  options.queue_capacity = kViewerQueueCapacity;
  // From the publisher's thread, under the queue's lock: only a post, nothing else.
  options.notify = std::move(notify);
  impl_->pump_.attach(stream.subscribe(std::move(options)));
}

void RtmpPlay::pump() { impl_->pump_.pump(); }

}  // namespace anchorcast
