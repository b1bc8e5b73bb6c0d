// SRT playback (the access-control form "#!::r=STREAM_ID,m=request"): a hub subscriber
// whose packets are muxed back into MPEG-TS and sent to the caller. The SRT listener
// (ingest/srt/srt_server.cpp) admits the caller in its handshake and hands the socket
// here; the viewer then lives on that adapter thread only, which polls pending().
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "anchorcast/core/srt_handles.hpp"
#include "anchorcast/hub/stream.hpp"
#include "egress/viewer_pump.hpp"
#include "protocol/mpegts/ts_muxer.hpp"

namespace anchorcast {

class SrtViewer {
 public:
  SrtViewer(SrtSocket socket, Stream& stream, std::string peer);
  ~SrtViewer();  // logs a summary, unsubscribes, closes the socket
  SrtViewer(const SrtViewer&) = delete;
  SrtViewer& operator=(const SrtViewer&) = delete;

  // True when the hub has queued events since the last pump (set from the publisher's
  // thread; the adapter thread polls it).
  bool pending() const { return pending_.load(std::memory_order_acquire); }
  // Sends what the hub queued. False when the viewer is over (end_reason() says why).
  bool pump();
  void set_end_reason(std::string reason) { end_reason_ = std::move(reason); }
  SRTSOCKET socket() const { return socket_.get(); }

 private:
  friend class ViewerPump<SrtViewer>;
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
  ViewerPump<SrtViewer> pump_{*this};
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

}  // namespace anchorcast
