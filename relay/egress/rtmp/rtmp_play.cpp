#include "anchorcast/egress/rtmp_play.hpp"

#include "relay/egress/rtmp/rtmp_framed_message.hpp"
#include "relay/egress/rtmp/rtmp_play_batch.hpp"
#include "relay/egress/rtmp/rtmp_viewer.hpp"
#include "relay/egress/stream_writer.hpp"
#include "relay/egress/viewer_pump.hpp"
#include "relay/protocol/rtmp/chunk_writer.hpp"

namespace anchorcast {

namespace {
constexpr size_t kViewerQueueCapacity = 1024;
}  // namespace

// ViewerPump's sink.
struct RtmpPlay::Impl : StreamWriter<RtmpPlayBatch>::Listener {
  using Writer = StreamWriter<RtmpPlayBatch>;

  Impl(uv_stream_t* socket, const rtmp::ChunkWriter& writer, uint32_t message_stream_id, FramedMessageCache& cache,
       Counter& egress_bytes, Hooks hooks)
      : writer_(writer),
        cache_(cache),
        hooks_(std::move(hooks)),
        viewer_(message_stream_id),
        out_(socket, egress_bytes, *this) {}

  ~Impl() {
    pump_.detach();  // unsubscribes: no mark comes after this
    if (ready_) ready_->forget(*target_);
  }

  bool mux(const MediaEvent& event) {
    return viewer_.on_event(event, writer_, cache_, out_.batch()) == RtmpViewer::Action::keep;
  }
  bool batch_empty() const { return out_.batch().empty(); }
  void end() { hooks_.ended(); }

  void write() {
    auto result = out_.write();
    switch (result.sent) {
      case Writer::Sent::all:
        // Not pump() from here: events that came since this pump's pop have marked the
        // viewer ready again, and recursing would grow the stack under a fast publisher.
        return pump_.written(false);
      case Writer::Sent::queued:
        return;
      case Writer::Sent::failed:
        return hooks_.failed(uv_strerror(result.status));
    }
  }

  void on_written() override { pump_.written(); }
  void on_write_failed(int status) override { hooks_.failed(uv_strerror(status)); }

  const rtmp::ChunkWriter& writer_;
  FramedMessageCache& cache_;
  Hooks hooks_;
  RtmpViewer viewer_;
  Writer out_;
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
