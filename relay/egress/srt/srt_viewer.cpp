#include "anchorcast/egress/srt_viewer.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
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

struct SrtViewer::Impl {
  Impl(SrtSocket socket, Stream& stream, std::string peer);
  ~Impl();

  // ViewerPump's sink. Sends go out as the batch grows (one SRT message at a time), so
  // write() only sends the tail, synchronously.
  bool mux(const MediaEvent& event);
  bool batch_empty() const { return out_.empty(); }
  void write();
  void end() { over_ = true; }

  bool send_all();
  std::string label() const;

  SrtSocket socket_;
  std::string stream_id_;
  std::string peer_;
  std::atomic<bool> pending_{true};  // before pump_'s subscription: its notify points here
  ViewerPump<Impl> pump_{*this};
  mpegts::TsMuxer muxer_;
  std::vector<uint8_t> out_;
  bool over_ = false;  // ended or failed: end_reason_ says why
  bool have_tracks_ = false;
  bool need_keyframe_ = true;
  uint64_t bytes_sent_ = 0;
  uint64_t packets_sent_ = 0;
  uint64_t packets_skipped_ = 0;
  std::chrono::steady_clock::time_point started_;
  std::string end_reason_ = "closed";
};

SrtViewer::SrtViewer(SrtSocket socket, Stream& stream, std::string peer)
    : impl_(std::make_unique<Impl>(std::move(socket), stream, std::move(peer))) {}

SrtViewer::~SrtViewer() = default;

bool SrtViewer::pending() const { return impl_->pending_.load(std::memory_order_acquire); }

bool SrtViewer::pump() {
  impl_->pending_.store(false, std::memory_order_release);
  impl_->pump_.pump();
  return !impl_->over_;
}

void SrtViewer::set_end_reason(std::string reason) { impl_->end_reason_ = std::move(reason); }

SRTSOCKET SrtViewer::socket() const { return impl_->socket_.get(); }

SrtViewer::Impl::Impl(SrtSocket socket, Stream& stream, std::string peer)
    : socket_(std::move(socket)), stream_id_(stream.id()), peer_(std::move(peer)), started_(std::chrono::steady_clock::now()) {
  SubscribeOptions options;
  options.protocol = ViewerProtocol::srt;
  options.notify = [flag = &pending_] { flag->store(true, std::memory_order_release); };
  pump_.attach(stream.subscribe(std::move(options)));
  log::info(label(), ": viewer started");
}

SrtViewer::Impl::~Impl() {
  pump_.detach();  // no notify after this
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  log::info(label(), ": viewer ended (", end_reason_, ") after ", static_cast<int>(seconds), " s, ", packets_sent_,
            " packets (", bytes_sent_, " bytes) sent, ", packets_skipped_, " skipped");
}

std::string SrtViewer::Impl::label() const { return "srt " + peer_ + " stream '" + stream_id_ + "'"; }

bool SrtViewer::Impl::mux(const MediaEvent& e) {
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

void SrtViewer::Impl::write() {
  if (!send_all()) {
    over_ = true;
    return;
  }
  pump_.written(false);  // the adapter thread pumps again when pending() says so
}

bool SrtViewer::Impl::send_all() {
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

}  // namespace anchorcast
