#include "egress/rtmp/rtmp_play.hpp"

#include <vector>

#include "egress/rtmp/rtmp_play_batch.hpp"

namespace anchorcast {

namespace {
constexpr size_t kViewerQueueCapacity = 1024;
}  // namespace

struct RtmpPlay::Write {
  uv_write_t req{};
  RtmpPlay* play = nullptr;  // null once the RtmpPlay is gone: the write finishes alone
  Counter* egress_bytes = nullptr;
  RtmpPlayBatch batch;
  std::vector<uv_buf_t> bufs;
};

RtmpPlay::RtmpPlay(uv_stream_t* socket, const rtmp::ChunkWriter& writer, uint32_t message_stream_id,
                   Counter& egress_bytes, Hooks hooks)
    : socket_(socket),
      writer_(writer),
      egress_bytes_(egress_bytes),
      hooks_(std::move(hooks)),
      viewer_(message_stream_id),
      write_(std::make_unique<Write>()) {
  write_->play = this;
  write_->egress_bytes = &egress_bytes_;
  write_->req.data = write_.get();
}

RtmpPlay::~RtmpPlay() {
  pump_.detach();
  // libuv still holds the write: its callback frees it (and counts what it sent).
  if (in_flight_) write_.release()->play = nullptr;
}

void RtmpPlay::start(Stream& stream, std::function<void()> notify) {
  SubscribeOptions options;
  options.protocol = ViewerProtocol::rtmp;
  options.queue_capacity = kViewerQueueCapacity;
  // From the publisher's thread, under the queue's lock: only a post, nothing else.
  options.notify = std::move(notify);
  pump_.attach(stream.subscribe(std::move(options)));
}

bool RtmpPlay::mux(const MediaEvent& event) {
  return viewer_.on_event(event, writer_, write_->batch) == RtmpViewer::Action::keep;
}

bool RtmpPlay::batch_empty() const { return write_->batch.empty(); }

void RtmpPlay::write() {
  Write& w = *write_;
  w.bufs.clear();
  for (auto span : w.batch.spans())
    w.bufs.push_back(uv_buf_init(const_cast<char*>(reinterpret_cast<const char*>(span.data())),
                                 static_cast<unsigned>(span.size())));
  int rc = uv_write(&w.req, socket_, w.bufs.data(), static_cast<unsigned>(w.bufs.size()), &RtmpPlay::on_written);
  if (rc != 0) return hooks_.failed(uv_strerror(rc));
  in_flight_ = true;
}

void RtmpPlay::on_written(uv_write_t* req, int status) {
  auto* w = static_cast<Write*>(req->data);
  size_t bytes = w->batch.size_bytes();
  w->batch.clear();  // the packets can go now
  RtmpPlay* self = w->play;
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

}  // namespace anchorcast
