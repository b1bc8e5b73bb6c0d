// One connected SRT publisher: its socket, the TS demuxer, and the hub's StreamPublisher.
// Lives on the SRT adapter thread only; destroying it ends the publisher session (the
// hub keeps the viewers and continues the timeline when the anchor comes back).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "anchorcast/core/srt_handles.hpp"
#include "anchorcast/hub/stream.hpp"
#include "relay/ingest/srt/srt_ingest_metrics.hpp"
#include "relay/protocol/mpegts/ts_demuxer.hpp"

namespace anchorcast {

class SrtPublisher {
 public:
  using Clock = std::chrono::steady_clock;

  SrtPublisher(SrtSocket socket, std::unique_ptr<StreamPublisher> publisher, std::string peer,
               std::shared_ptr<SrtIngestMetrics> metrics);
  ~SrtPublisher();  // logs the summary, unregisters the link, closes the socket
  SrtPublisher(const SrtPublisher&) = delete;
  SrtPublisher& operator=(const SrtPublisher&) = delete;

  // Reads what libsrt has ready (a bounded batch; SRT epoll is level-triggered, so the
  // rest wakes us again). False when the connection is over; end_reason() says why.
  bool on_readable();
  void set_end_reason(std::string reason) { end_reason_ = std::move(reason); }

  SRTSOCKET socket() const { return socket_.get(); }
  const std::string& stream_id() const { return stream_id_; }
  bool has_tracks() const { return tracks_announced_; }
  Clock::time_point started() const { return started_; }

 private:
  void deliver(std::vector<TsDemuxEvent>& events);
  void report_demux_errors();
  // libsrt answers no statistics once the connection is broken, which is when the
  // summary is written: keep the latest ones, refreshed at most every kStatsEvery and at
  // once when the demuxer sees a gap (SRT has counted the too-late drop behind it by then).
  void refresh_link_stats(Clock::time_point now, bool force);
  std::string label() const;

  SrtSocket socket_;
  std::unique_ptr<StreamPublisher> publisher_;
  std::string stream_id_;
  std::string peer_;
  std::shared_ptr<SrtIngestMetrics> metrics_;
  std::shared_ptr<SrtLink> link_;
  TsDemuxer demuxer_;
  std::vector<TsDemuxEvent> events_;
  std::vector<uint8_t> buffer_;
  // (input offset just past a received message, when it was received): maps a frame's
  // last byte back to its arrival for the receive → hub latency histogram.
  std::deque<std::pair<uint64_t, Clock::time_point>> arrivals_;
  uint64_t received_ = 0;
  Clock::time_point started_;
  bool tracks_announced_ = false;
  std::string end_reason_ = "closed";
  TsDemuxerStats reported_;  // demuxer errors already added to the counters
  SRT_TRACEBSTATS link_stats_{};
  bool have_link_stats_ = false;
  Clock::time_point link_stats_at_{};
};

}  // namespace anchorcast
