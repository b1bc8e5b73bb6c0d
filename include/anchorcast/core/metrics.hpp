// Prometheus counters owned by the server (no globals): modules register a Counter once
// and bump it lock-free; collectors add values computed at scrape time.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace anchorcast {

class Counter {
 public:
  void add(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

// A Prometheus histogram with fixed upper bounds: observe() is lock-free.
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void observe(double value);
  const std::vector<double>& bounds() const { return bounds_; }
  // Cumulative count of observations <= bounds()[i]; i == bounds().size() is +Inf.
  uint64_t cumulative(size_t i) const;
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  double sum() const { return static_cast<double>(sum_micros_.load(std::memory_order_relaxed)) / 1e6; }
  // The smallest bound under which at least `q` (0..1) of the observations fall; +Inf
  // as infinity. For logs and tests, not a precise quantile.
  double quantile_bound(double q) const;

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // per bucket, not cumulative
  std::atomic<uint64_t> count_{0};
  std::atomic<int64_t> sum_micros_{0};
};

// Writes Prometheus text exposition lines for one metric family.
class MetricsWriter {
 public:
  explicit MetricsWriter(std::string& out) : out_(out) {}
  void family(const std::string& name, const char* type, const std::string& help);
  // labels: {"stream","demo"},{"protocol","hls"} — values are escaped here.
  void sample(const std::string& name, const std::vector<std::pair<std::string, std::string>>& labels,
              double value);

 private:
  std::string& out_;
};

class Metrics {
 public:
  // Same name and labels give the same Counter; its address never changes.
  Counter& counter(const std::string& name, const std::string& help,
                   std::vector<std::pair<std::string, std::string>> labels = {});
  // Same name and labels give the same Histogram (the first call's bounds win).
  Histogram& histogram(const std::string& name, const std::string& help, std::vector<double> bounds,
                       std::vector<std::pair<std::string, std::string>> labels = {});
  void add_collector(std::function<void(MetricsWriter&)> collector);
  std::string render() const;

 private:
  struct Entry {
    std::string name, help;
    std::vector<std::pair<std::string, std::string>> labels;
    Counter counter;
  };
  mutable std::mutex mutex_;
  struct HistogramEntry {
    std::string name, help;
    std::vector<std::pair<std::string, std::string>> labels;
    std::unique_ptr<Histogram> histogram;
  };
  std::deque<Entry> counters_;  // deque: stable addresses
  std::deque<HistogramEntry> histograms_;
  std::vector<std::function<void(MetricsWriter&)>> collectors_;
};

}  // namespace anchorcast
