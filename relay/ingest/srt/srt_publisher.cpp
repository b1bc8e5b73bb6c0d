#include "relay/ingest/srt/srt_publisher.hpp"

#include <algorithm>
#include <cstdio>

#include "anchorcast/core/log.hpp"

namespace anchorcast {

namespace {
// Messages read per wake-up before giving other publishers their turn: ~1.3 MB, a few
// hundred ms of a 5 Mbps stream.
constexpr int kMaxMessagesPerWake = 1024;
// Arrival records kept for the latency histogram: ~4 s at 5 Mbps (1316-byte messages),
// far longer than a frame waits in the demuxer.
constexpr size_t kMaxArrivals = 2048;
// How stale the SRT statistics in the publisher's summary line may be.
constexpr auto kStatsEvery = std::chrono::milliseconds(250);

std::string describe(const TrackSet& t) {
  std::string out;
  char buf[128];
  if (t.video) {
    std::snprintf(buf, sizeof buf, "video %s %dx%d", codec_name(t.video->codec), t.video->width, t.video->height);
    out += buf;
    if (t.video->fps > 0) {  // 0: the stream does not say (HEVC: in the VUI we do not read)
      std::snprintf(buf, sizeof buf, "@%.3g", t.video->fps);
      out += buf;
    }
  }
  if (t.audio) {
    std::snprintf(buf, sizeof buf, "%saudio %s %d Hz %d ch", out.empty() ? "" : ", ", codec_name(t.audio->codec),
                  t.audio->sample_rate, t.audio->channels);
    out += buf;
  }
  return out.empty() ? "no tracks" : out;
}
}  // namespace

SrtPublisher::SrtPublisher(SrtSocket socket, std::unique_ptr<StreamPublisher> publisher, std::string peer,
                           std::shared_ptr<SrtIngestMetrics> metrics)
    : socket_(std::move(socket)),
      publisher_(std::move(publisher)),
      stream_id_(publisher_->stream().id()),
      peer_(std::move(peer)),
      metrics_(std::move(metrics)),
      started_(Clock::now()) {
  link_ = metrics_->add_link(socket_.get(), stream_id_, peer_);
  link_->last_data_ms.store(
      std::chrono::duration_cast<std::chrono::milliseconds>(started_.time_since_epoch()).count());
  buffer_.resize(SRT_LIVE_MAX_PLSIZE);
  metrics_->publisher_sessions.add();
  int latency_ms = 0;
  int len = sizeof latency_ms;
  srt_getsockflag(socket_.get(), SRTO_RCVLATENCY, &latency_ms, &len);
  log::info(label(), ": publisher started (SRT latency ", latency_ms, " ms)");
}

SrtPublisher::~SrtPublisher() {
  // The last video PES has no successor to end it: it is complete now.
  events_.clear();
  demuxer_.finish(events_);
  deliver(events_);
  refresh_link_stats(Clock::now(), true);  // fails quietly on a broken connection
  const SRT_TRACEBSTATS& s = link_stats_;
  const bool have_stats = have_link_stats_;
  publisher_.reset();  // ends the hub session first: viewers see publisher_gone at once
  metrics_->remove_link(link_);
  report_demux_errors();
  const auto& d = demuxer_.stats();
  const double seconds = std::chrono::duration<double>(Clock::now() - started_).count();
  char summary[512];
  std::snprintf(summary, sizeof summary,
                "%.1f s, %.2f MB, %llu video + %llu audio frames; SRT rtt %.2f ms, lost %d, retransmitted %d, "
                "dropped %d; TS errors: continuity %llu, sync %llu, psi %llu, pes dropped %llu",
                seconds, static_cast<double>(received_) / 1e6, static_cast<unsigned long long>(d.video_frames),
                static_cast<unsigned long long>(d.audio_frames), have_stats ? s.msRTT : 0.0,
                have_stats ? s.pktRcvLossTotal : 0, have_stats ? s.pktRcvRetrans : 0,
                have_stats ? s.pktRcvDropTotal : 0, static_cast<unsigned long long>(d.cc_errors),
                static_cast<unsigned long long>(d.sync_losses), static_cast<unsigned long long>(d.psi_errors),
                static_cast<unsigned long long>(d.pes_dropped));
  log::info(label(), ": publisher ended (", end_reason_, ") after ", summary);
  // socket_ closes last, after the link is gone (the collector may be reading it).
}

std::string SrtPublisher::label() const { return "srt " + peer_ + " stream '" + stream_id_ + "'"; }

bool SrtPublisher::on_readable() {
  for (int i = 0; i < kMaxMessagesPerWake; ++i) {
    SRT_MSGCTRL ctrl = srt_msgctrl_default;
    const int n = srt_recvmsg2(socket_.get(), reinterpret_cast<char*>(buffer_.data()),
                               static_cast<int>(buffer_.size()), &ctrl);
    if (n == SRT_ERROR) {
      if (srt_getlasterror(nullptr) == SRT_EASYNCRCV) break;
      end_reason_ = srt_getlasterror_str();
      return false;
    }
    if (n <= 0) break;
    const auto now = Clock::now();
    received_ += static_cast<uint64_t>(n);
    metrics_->ingest_bytes.add(static_cast<uint64_t>(n));
    link_->last_data_ms.store(
        std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count(),
        std::memory_order_relaxed);
    arrivals_.emplace_back(received_, now);
    if (arrivals_.size() > kMaxArrivals) arrivals_.pop_front();
    events_.clear();
    demuxer_.feed(std::span<const uint8_t>(buffer_.data(), static_cast<size_t>(n)), events_);
    deliver(events_);
  }
  const bool new_gap = demuxer_.stats().cc_errors != reported_.cc_errors;
  report_demux_errors();
  refresh_link_stats(Clock::now(), new_gap);
  return true;
}

void SrtPublisher::refresh_link_stats(Clock::time_point now, bool force) {
  if (!force && have_link_stats_ && now - link_stats_at_ < kStatsEvery) return;
  SRT_TRACEBSTATS s{};
  if (srt_bstats(socket_.get(), &s, 0) != 0) return;
  link_stats_ = s;
  have_link_stats_ = true;
  link_stats_at_ = now;
}

void SrtPublisher::deliver(std::vector<TsDemuxEvent>& events) {
  for (auto& e : events) {
    if (e.type == TsDemuxEvent::Type::tracks) {
      log::info(label(), ": ", tracks_announced_ ? "tracks changed: " : "tracks: ", describe(e.tracks));
      tracks_announced_ = true;
      publisher_->set_tracks(std::move(e.tracks));
      continue;
    }
    // When did the last byte of this frame arrive? The first message that ends at or
    // after its offset carried it.
    auto it = std::lower_bound(arrivals_.begin(), arrivals_.end(), e.input_offset,
                               [](const auto& a, uint64_t offset) { return a.first < offset; });
    const bool known = it != arrivals_.end();
    const auto arrived = known ? it->second : Clock::time_point{};
    publisher_->push(std::move(e.packet));
    if (known)
      metrics_->receive_to_hub.observe_us(
          std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - arrived).count());
  }
}

void SrtPublisher::report_demux_errors() {
  const auto& d = demuxer_.stats();
  // One line per unusable set of video parameter sets (the demuxer counts each once):
  // the anchor's video cannot be relayed until its encoder sends usable ones.
  if (d.config_errors != reported_.config_errors) log::warn(label(), ": ", demuxer_.config_error());
  metrics_->ts_continuity_errors.add(d.cc_errors - reported_.cc_errors);
  metrics_->ts_sync_losses.add(d.sync_losses - reported_.sync_losses);
  metrics_->ts_psi_errors.add(d.psi_errors - reported_.psi_errors);
  metrics_->ts_pes_dropped.add(d.pes_dropped - reported_.pes_dropped);
  reported_ = d;
}

}  // namespace anchorcast
