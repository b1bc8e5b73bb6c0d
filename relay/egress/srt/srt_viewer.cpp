#include "anchorcast/egress/srt_viewer.hpp"

#include <chrono>
#include <cstdint>
#include <future>
#include <utility>
#include <vector>

#include "anchorcast/core/log.hpp"
#include "relay/egress/viewer_pump.hpp"
#include "relay/protocol/mpegts/ts_muxer.hpp"

namespace anchorcast {

namespace {
// SRT live mode carries up to 1316 bytes per message: 7 TS packets, the payload size
// every SRT/TS tool expects (srt.h SRT_LIVE_DEF_PLSIZE).
constexpr size_t kMessageSize = SRT_LIVE_DEF_PLSIZE;
}  // namespace

class SrtViewer;

// The viewers one loop owns. Loop thread only, but for `count`.
struct SrtViewers::Loop {
  Loop(SrtViewers& owner, EventLoop& loop) : owner(owner), loop(loop) {}
  void start(SrtSocket socket, Stream& stream, std::string peer, int epoll);
  void end(SRTSOCKET socket, std::string reason);
  void erase(SRTSOCKET socket);  // destroys the viewer
  void close_all();

  SrtViewers& owner;
  EventLoop& loop;
  std::unordered_map<SRTSOCKET, std::unique_ptr<SrtViewer>> viewers;
  std::atomic<size_t> count{0};
  bool stopped = false;
};

class SrtViewer final : public ReadyTarget {
 public:
  SrtViewer(SrtViewers::Loop& owner, SrtSocket socket, Stream& stream, std::string peer, int epoll);
  ~SrtViewer();  // logs a summary, unsubscribes, leaves the epoll, closes the socket

  void on_ready() override { pump_.pump(); }
  void set_end_reason(std::string reason) { end_reason_ = std::move(reason); }

 private:
  friend class ViewerPump<SrtViewer>;

  // ViewerPump's sink. Sends go out as the batch grows (one SRT message at a time), so
  // write() only sends the tail, synchronously.
  bool mux(const MediaEvent& event);
  bool batch_empty() const { return out_.empty(); }
  void write();
  void end() { owner_.erase(socket_.get()); }  // destroys this

  bool send_all();
  std::string label() const;

  SrtViewers::Loop& owner_;
  SrtSocket socket_;
  int epoll_;
  std::string stream_id_;
  std::string peer_;
  ViewerPump<SrtViewer> pump_{*this};
  mpegts::TsMuxer muxer_;
  std::vector<uint8_t> out_;
  bool have_tracks_ = false;
  bool need_keyframe_ = true;
  uint64_t bytes_sent_ = 0;
  uint64_t packets_sent_ = 0;
  uint64_t packets_skipped_ = 0;
  std::chrono::steady_clock::time_point started_;
  std::string end_reason_ = "closed";
};

SrtViewer::SrtViewer(SrtViewers::Loop& owner, SrtSocket socket, Stream& stream, std::string peer, int epoll)
    : owner_(owner),
      socket_(std::move(socket)),
      epoll_(epoll),
      stream_id_(stream.id()),
      peer_(std::move(peer)),
      started_(std::chrono::steady_clock::now()) {
  SubscribeOptions options;
  options.protocol = ViewerProtocol::srt;
  // From the publisher's thread: a mark on the loop's ready list, no allocation.
  options.notify = [&ready = owner_.loop.ready(), this] { ready.mark(*this); };
  pump_.attach(stream.subscribe(std::move(options)));
  log::info(label(), ": viewer started");
}

SrtViewer::~SrtViewer() {
  pump_.detach();  // no notify after this
  owner_.loop.ready().forget(*this);
  srt_epoll_remove_usock(epoll_, socket_.get());
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  log::info(label(), ": viewer ended (", end_reason_, ") after ", static_cast<int>(seconds), " s, ", packets_sent_,
            " packets (", bytes_sent_, " bytes) sent, ", packets_skipped_, " skipped");
}

std::string SrtViewer::label() const { return "srt " + peer_ + " stream '" + stream_id_ + "'"; }

bool SrtViewer::mux(const MediaEvent& e) {
  switch (e.type) {
    case MediaEvent::Type::tracks:
      if (auto st = muxer_.set_tracks(*e.tracks); !st) log::warn(label(), ": ", st.error().message);
      have_tracks_ = true;
      need_keyframe_ = true;  // a new session or configuration: restart on a keyframe
      break;
    case MediaEvent::Type::packet: {
      const Packet& p = *e.packet;
      if (!have_tracks_) break;
      if (muxer_.has_video() && need_keyframe_) {
        if (p.kind != MediaKind::video || !p.keyframe) {
          ++packets_skipped_;
          break;
        }
      }
      // PAT/PMT before every keyframe (and first): where a player can start decoding.
      if (need_keyframe_ || (p.kind == MediaKind::video && p.keyframe)) muxer_.write_tables(out_);
      need_keyframe_ = false;
      if (muxer_.write_packet(p, out_)) ++packets_sent_;
      break;
    }
    case MediaEvent::Type::publisher_gone:
      break;  // the stream may come back: keep the viewer
    case MediaEvent::Type::stream_closed:
      end_reason_ = "stream removed";
      out_.clear();
      return false;
    case MediaEvent::Type::cue:
      break;  // SRT viewers get the MPEG-TS as published: no timed metadata yet
  }
  if (out_.size() >= kMessageSize && !send_all()) {
    out_.clear();  // the socket failed: nothing more goes out
    return false;
  }
  return true;
}

void SrtViewer::write() {
  if (!send_all()) return end();
  // Not pump() from here: events that came since this pump's pop marked the viewer
  // ready again, and recursing would grow the stack under a fast publisher.
  pump_.written(false);
}

bool SrtViewer::send_all() {
  size_t pos = 0;
  while (pos < out_.size()) {
    const size_t n = std::min(kMessageSize, out_.size() - pos);
    const int sent = srt_sendmsg2(socket_.get(), reinterpret_cast<const char*>(out_.data() + pos),
                                  static_cast<int>(n), nullptr);
    if (sent == SRT_ERROR) {
      if (srt_getlasterror(nullptr) == SRT_EASYNCSND) {
        // The send buffer is full: this viewer cannot keep up. Drop what is left and
        // restart at a keyframe, as the hub's queues do for slow viewers.
        ++packets_skipped_;
        need_keyframe_ = true;
        break;
      }
      end_reason_ = srt_getlasterror_str();
      return false;
    }
    bytes_sent_ += n;
    pos += n;
  }
  out_.clear();
  return true;
}

void SrtViewers::Loop::start(SrtSocket socket, Stream& stream, std::string peer, int epoll) {
  const SRTSOCKET s = socket.get();
  if (stopped) {
    // Not `owner`: this may run at the stop of a loop that never started, after the
    // SrtViewers is gone.
    srt_epoll_remove_usock(epoll, s);
    return;  // `socket` closes
  }
  auto viewer = std::make_unique<SrtViewer>(*this, std::move(socket), stream, std::move(peer), epoll);
  SrtViewer& v = *viewer;
  viewers.emplace(s, std::move(viewer));
  count.fetch_add(1, std::memory_order_relaxed);
  v.on_ready();  // the join replay (latest GOP) goes out at once
}

void SrtViewers::Loop::end(SRTSOCKET socket, std::string reason) {
  auto it = viewers.find(socket);
  if (it == viewers.end()) return;
  it->second->set_end_reason(std::move(reason));
  erase(socket);
}

void SrtViewers::Loop::erase(SRTSOCKET socket) {
  auto it = viewers.find(socket);
  if (it == viewers.end()) return;
  {
    std::lock_guard lock(owner.where_mutex_);
    owner.where_.erase(socket);
  }
  viewers.erase(it);
  count.fetch_sub(1, std::memory_order_relaxed);
}

void SrtViewers::Loop::close_all() {
  stopped = true;
  while (!viewers.empty()) end(viewers.begin()->first, "server stopping");
}

SrtViewers::SrtViewers(std::vector<EventLoop*> loops) {
  for (EventLoop* loop : loops) loops_.add(std::make_shared<Loop>(*this, *loop));
}

SrtViewers::~SrtViewers() { close_all(); }

void SrtViewers::start(SrtSocket socket, std::shared_ptr<Stream> stream, std::string peer, int epoll) {
  auto [loop, index] = loops_.deal();
  if (!loop) {
    log::warn("srt ", peer, ": playback refused: no data-plane loop to serve it");
    srt_epoll_remove_usock(epoll, socket.get());
    return;  // `socket` closes
  }
  {
    std::lock_guard lock(where_mutex_);
    where_[socket.get()] = index;
  }
  // The socket rides in a shared_ptr: a task the stopped loop drops closes it. The task
  // holds its Loop: it may run after this SrtViewers is gone (see close_all).
  auto handoff = std::make_shared<SrtSocket>(std::move(socket));
  EventLoop& target = loop->loop;
  target.post([loop = loop, handoff, stream = std::move(stream), peer = std::move(peer), epoll]() mutable {
    loop->start(std::move(*handoff), *stream, std::move(peer), epoll);
  });
}

void SrtViewers::broken(SRTSOCKET socket, std::string reason) {
  std::shared_ptr<Loop> loop;
  {
    std::lock_guard lock(where_mutex_);
    if (auto it = where_.find(socket); it != where_.end()) loop = loops_[it->second];
  }
  if (!loop) return;
  EventLoop& target = loop->loop;
  target.post([loop, socket, reason = std::move(reason)]() mutable { loop->end(socket, std::move(reason)); });
}

void SrtViewers::close_all() {
  for (auto& l : loops_) {
    // A loop that never started runs nothing until its stop(), which ends its viewers
    // (its stop task) before it runs what was posted: nothing to wait for.
    if (!l->loop.started()) continue;
    auto done = std::make_shared<std::promise<void>>();
    std::future<void> ran = done->get_future();
    // A task the stopped loop drops destroys the promise: the future is ready then too.
    l->loop.post([loop = l, done] {
      loop->close_all();
      done->set_value();
    });
    done.reset();
    ran.wait();
  }
}

std::vector<size_t> SrtViewers::viewers_per_loop() const { return loops_.counts(); }

}  // namespace anchorcast
