// SRT playback (the access-control form "#!::r=STREAM_ID,m=request"): a hub subscriber
// whose packets are muxed back into MPEG-TS and sent to the caller. Lives on the SRT
// adapter thread only. (Egress by nature; it sits here because it shares the SRT
// listener, its handshake and its thread.)
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "anchorcast/hub/stream.hpp"
#include "relay/ingest/srt/srt_handles.hpp"
#include "relay/protocol/mpegts/ts_muxer.hpp"

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
  bool send_all();
  std::string label() const;

  SrtSocket socket_;
  std::string stream_id_;
  std::string peer_;
  std::atomic<bool> pending_{true};  // before subscription_: its notify points here
  std::unique_ptr<Subscription> subscription_;
  mpegts::TsMuxer muxer_;
  std::vector<MediaEvent> events_;
  std::vector<uint8_t> out_;
  bool have_tracks_ = false;
  bool need_keyframe_ = true;
  uint64_t bytes_sent_ = 0;
  uint64_t packets_sent_ = 0;
  uint64_t packets_skipped_ = 0;
  std::chrono::steady_clock::time_point started_;
  std::string end_reason_ = "closed";
};

}  // namespace anchorcast
