#include "relay/ingest/srt/srt_viewer.hpp"

#include "anchorcast/core/log.hpp"

namespace anchorcast {

namespace {
// SRT live mode carries up to 1316 bytes per message: 7 TS packets, the payload size
// every SRT/TS tool expects (srt.h SRT_LIVE_DEF_PLSIZE).
constexpr size_t kMessageSize = SRT_LIVE_DEF_PLSIZE;
}  // namespace

SrtViewer::SrtViewer(SrtSocket socket, Stream& stream, std::string peer)
    : socket_(std::move(socket)), stream_id_(stream.id()), peer_(std::move(peer)), started_(std::chrono::steady_clock::now()) {
  SubscribeOptions options;
  options.protocol = ViewerProtocol::srt;
  options.notify = [flag = &pending_] { flag->store(true, std::memory_order_release); };
  subscription_ = stream.subscribe(std::move(options));
  log::info(label(), ": viewer started");
}

SrtViewer::~SrtViewer() {
  subscription_.reset();  // no notify after this
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  log::info(label(), ": viewer ended (", end_reason_, ") after ", static_cast<int>(seconds), " s, ", packets_sent_,
            " packets (", bytes_sent_, " bytes) sent, ", packets_skipped_, " skipped");
}

std::string SrtViewer::label() const { return "srt " + peer_ + " stream '" + stream_id_ + "'"; }

bool SrtViewer::pump() {
  pending_.store(false, std::memory_order_release);
  events_.clear();
  subscription_->pop_all(events_);
  for (const auto& e : events_) {
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
        return false;
      case MediaEvent::Type::cue:
        break;  // SRT viewers get the MPEG-TS as published: no timed metadata yet
    }
    if (out_.size() >= kMessageSize && !send_all()) return false;
  }
  return send_all();
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

}  // namespace anchorcast
