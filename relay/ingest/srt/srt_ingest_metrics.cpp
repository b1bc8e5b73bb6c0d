#include "relay/ingest/srt/srt_ingest_metrics.hpp"

#include <algorithm>
#include <cstdio>

namespace anchorcast {

void LatencyHistogram::observe_us(int64_t us) {
  if (us < 0) us = 0;
  const double s = static_cast<double>(us) / 1e6;
  size_t i = 0;
  while (i < kBounds.size() && s > kBounds[i]) ++i;
  if (i < kBounds.size()) buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_us_.fetch_add(static_cast<uint64_t>(us), std::memory_order_relaxed);
}

void LatencyHistogram::write(MetricsWriter& w, const std::string& name, const std::string& help) const {
  w.family(name, "histogram", help);
  uint64_t cumulative = 0;
  char le[32];
  for (size_t i = 0; i < kBounds.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    std::snprintf(le, sizeof le, "%g", kBounds[i]);
    w.sample(name + "_bucket", {{"le", le}}, static_cast<double>(cumulative));
  }
  const uint64_t n = count();
  w.sample(name + "_bucket", {{"le", "+Inf"}}, static_cast<double>(n));
  w.sample(name + "_sum", {}, static_cast<double>(sum_us_.load(std::memory_order_relaxed)) / 1e6);
  w.sample(name + "_count", {}, static_cast<double>(n));
}

namespace {
Counter& reject(Metrics& m, const char* reason) {
  // Same family and help as RTMP ingest (relay/ingest/rtmp/rtmp_server.cpp).
  return m.counter("anchorcast_publish_rejects_total", "Refused publish attempts", {{"reason", reason}});
}
Counter& ts_error(Metrics& m, const char* kind) {
  return m.counter("anchorcast_srt_ts_errors_total",
                   "MPEG-TS damage survived by SRT ingest (the affected frames are dropped)", {{"kind", kind}});
}
}  // namespace

SrtIngestMetrics::SrtIngestMetrics(Metrics& m)
    : ingest_bytes(m.counter("anchorcast_ingest_bytes_total", "Bytes received from publishers and players",
                             {{"protocol", "srt"}})),
      reject_bad_key(reject(m, "bad_key")),
      reject_already_live(reject(m, "already_live")),
      reject_bad_request(reject(m, "bad_request")),
      reject_unsupported_mode(reject(m, "unsupported_mode")),
      ts_continuity_errors(ts_error(m, "continuity")),
      ts_sync_losses(ts_error(m, "sync_loss")),
      ts_psi_errors(ts_error(m, "psi")),
      ts_pes_dropped(ts_error(m, "pes_dropped")),
      publisher_sessions(m.counter("anchorcast_srt_publisher_sessions_total", "SRT publisher sessions started")) {}

std::shared_ptr<SrtLink> SrtIngestMetrics::add_link(SRTSOCKET socket, std::string stream_id, std::string peer) {
  auto link = std::make_shared<SrtLink>();
  link->socket = socket;
  link->stream_id = std::move(stream_id);
  link->peer = std::move(peer);
  std::lock_guard lock(mutex_);
  links_.push_back(link);
  return link;
}

void SrtIngestMetrics::remove_link(const std::shared_ptr<SrtLink>& link) {
  std::lock_guard lock(mutex_);
  links_.erase(std::remove(links_.begin(), links_.end(), link), links_.end());
}

int64_t SrtIngestMetrics::idle_ms(const std::string& stream_id, int64_t now_ms) const {
  std::lock_guard lock(mutex_);
  for (const auto& l : links_)
    if (l->stream_id == stream_id) return now_ms - l->last_data_ms.load(std::memory_order_relaxed);
  return -1;
}

void SrtIngestMetrics::collect(MetricsWriter& w) const {
  receive_to_hub.write(w, "anchorcast_srt_ingest_latency_seconds",
                       "SRT ingest: from the receipt of a frame's last byte to its push into the hub");
  struct Row {
    std::string stream;
    SRT_TRACEBSTATS s;
  };
  std::vector<Row> rows;
  {
    // srt_bstats under the lock: the SRT thread removes a link before closing its socket.
    std::lock_guard lock(mutex_);
    for (const auto& l : links_) {
      Row r{l->stream_id, {}};
      if (srt_bstats(l->socket, &r.s, 0) == 0) rows.push_back(std::move(r));
    }
  }
  w.family("anchorcast_srt_publishers", "gauge", "Live SRT publishers");
  w.sample("anchorcast_srt_publishers", {}, static_cast<double>(rows.size()));
  auto family = [&](const char* name, const char* type, const char* help, auto value) {
    w.family(name, type, help);
    for (const auto& r : rows) w.sample(name, {{"stream", r.stream}}, static_cast<double>(value(r.s)));
  };
  family("anchorcast_srt_rtt_seconds", "gauge", "SRT round-trip time to the publisher",
         [](const SRT_TRACEBSTATS& s) { return s.msRTT / 1000.0; });
  family("anchorcast_srt_received_packets_total", "counter", "SRT data packets received",
         [](const SRT_TRACEBSTATS& s) { return s.pktRecvTotal; });
  family("anchorcast_srt_lost_packets_total", "counter", "SRT packets detected lost (before retransmission)",
         [](const SRT_TRACEBSTATS& s) { return s.pktRcvLossTotal; });
  family("anchorcast_srt_retransmitted_packets_total", "counter", "SRT retransmitted packets received",
         [](const SRT_TRACEBSTATS& s) { return s.pktRcvRetrans; });
  family("anchorcast_srt_dropped_packets_total", "counter", "SRT packets given up on (too late to play)",
         [](const SRT_TRACEBSTATS& s) { return s.pktRcvDropTotal; });
  family("anchorcast_srt_receive_buffer_seconds", "gauge", "SRT receive buffer, in time not yet delivered",
         [](const SRT_TRACEBSTATS& s) { return s.msRcvBuf / 1000.0; });
  family("anchorcast_srt_latency_seconds", "gauge", "SRT negotiated receive latency (TSBPD delay)",
         [](const SRT_TRACEBSTATS& s) { return s.msRcvTsbPdDelay / 1000.0; });
}

}  // namespace anchorcast
