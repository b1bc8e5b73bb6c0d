// Prometheus counters owned by the server (no globals): modules register a Counter once
// and bump it lock-free; collectors add values computed at scrape time.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
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
  void add_collector(std::function<void(MetricsWriter&)> collector);
  std::string render() const;

 private:
  struct Entry {
    std::string name, help;
    std::vector<std::pair<std::string, std::string>> labels;
    Counter counter;
  };
  mutable std::mutex mutex_;
  std::deque<Entry> counters_;  // deque: stable addresses
  std::vector<std::function<void(MetricsWriter&)>> collectors_;
};

}  // namespace anchorcast
