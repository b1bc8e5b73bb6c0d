// What SRT ingest reports on /metrics: the counters every ingest shares (bytes, publish
// rejects by reason), TS damage the demuxer survived, the receive → hub-push latency
// histogram, and per-publisher SRT link statistics read at scrape time (srt_bstats).
// Shared ownership: the collector registered with Metrics outlives the SrtServer.
#pragma once

#include <srt/srt.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "anchorcast/core/metrics.hpp"

namespace anchorcast {

// A Prometheus histogram of seconds with fixed buckets, lock-free to observe.
class LatencyHistogram {
 public:
  static constexpr std::array<double, 12> kBounds{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                  0.01,   0.025,   0.05,   0.1,   0.25,   1.0};
  void observe_us(int64_t us);
  void write(MetricsWriter& w, const std::string& name, const std::string& help) const;
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }

 private:
  std::array<std::atomic<uint64_t>, kBounds.size()> buckets_{};  // not cumulative
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_us_{0};
};

// One live SRT publisher, as the collector and the listen callback see it.
struct SrtLink {
  SRTSOCKET socket = SRT_INVALID_SOCK;
  std::string stream_id;
  std::string peer;
  std::atomic<int64_t> last_data_ms{0};  // steady clock, for idle-publisher takeover
};

class SrtIngestMetrics {
 public:
  explicit SrtIngestMetrics(Metrics& metrics);

  Counter& ingest_bytes;
  Counter& reject_bad_key;
  Counter& reject_already_live;
  Counter& reject_bad_request;
  Counter& reject_unsupported_mode;
  Counter& ts_continuity_errors;
  Counter& ts_sync_losses;
  Counter& ts_psi_errors;
  Counter& ts_pes_dropped;
  Counter& publisher_sessions;
  LatencyHistogram receive_to_hub;

  std::shared_ptr<SrtLink> add_link(SRTSOCKET socket, std::string stream_id, std::string peer);
  // Before the socket is closed: the collector calls srt_bstats under the same lock.
  void remove_link(const std::shared_ptr<SrtLink>& link);
  // How long the live SRT publisher of `stream_id` has sent nothing, -1 if there is none.
  int64_t idle_ms(const std::string& stream_id, int64_t now_ms) const;
  void collect(MetricsWriter& w) const;

 private:
  mutable std::mutex mutex_;
  std::vector<std::shared_ptr<SrtLink>> links_;
};

}  // namespace anchorcast
