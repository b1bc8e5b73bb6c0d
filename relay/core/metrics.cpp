#include "anchorcast/core/metrics.hpp"

#include <cmath>
#include <cstdio>
#include <set>

namespace anchorcast {

namespace {
void append_escaped(std::string& out, const std::string& v) {
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
}
}  // namespace

void MetricsWriter::family(const std::string& name, const char* type, const std::string& help) {
  out_ += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

void MetricsWriter::sample(const std::string& name, const std::vector<std::pair<std::string, std::string>>& labels,
                           double value) {
  out_ += name;
  if (!labels.empty()) {
    out_ += '{';
    for (size_t i = 0; i < labels.size(); ++i) {
      if (i) out_ += ',';
      out_ += labels[i].first + "=\"";
      append_escaped(out_, labels[i].second);
      out_ += '"';
    }
    out_ += '}';
  }
  char buf[64];
  if (std::floor(value) == value && std::fabs(value) < 1e15)
    std::snprintf(buf, sizeof buf, " %.0f\n", value);
  else
    std::snprintf(buf, sizeof buf, " %.6g\n", value);
  out_ += buf;
}

Counter& Metrics::counter(const std::string& name, const std::string& help,
                          std::vector<std::pair<std::string, std::string>> labels) {
  std::lock_guard lock(mutex_);
  for (auto& e : counters_)
    if (e.name == name && e.labels == labels) return e.counter;
  auto& e = counters_.emplace_back();
  e.name = name;
  e.help = help;
  e.labels = std::move(labels);
  return e.counter;
}

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), buckets_(std::make_unique<std::atomic<uint64_t>[]>(bounds_.size() + 1)) {}

void Histogram::observe(double value) {
  size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_micros_.fetch_add(static_cast<int64_t>(std::llround(value * 1e6)), std::memory_order_relaxed);
}

uint64_t Histogram::cumulative(size_t i) const {
  uint64_t n = 0;
  for (size_t b = 0; b <= i && b <= bounds_.size(); ++b) n += buckets_[b].load(std::memory_order_relaxed);
  return n;
}

double Histogram::quantile_bound(double q) const {
  uint64_t total = count();
  if (total == 0) return 0;
  for (size_t i = 0; i < bounds_.size(); ++i)
    if (static_cast<double>(cumulative(i)) >= q * static_cast<double>(total)) return bounds_[i];
  return INFINITY;
}

Histogram& Metrics::histogram(const std::string& name, const std::string& help, std::vector<double> bounds,
                              std::vector<std::pair<std::string, std::string>> labels) {
  std::lock_guard lock(mutex_);
  for (auto& e : histograms_)
    if (e.name == name && e.labels == labels) return *e.histogram;
  auto& e = histograms_.emplace_back();
  e.name = name;
  e.help = help;
  e.labels = std::move(labels);
  e.histogram = std::make_unique<Histogram>(std::move(bounds));
  return *e.histogram;
}

void Metrics::add_collector(std::function<void(MetricsWriter&)> collector) {
  std::lock_guard lock(mutex_);
  collectors_.push_back(std::move(collector));
}

std::string Metrics::render() const {
  std::string out;
  MetricsWriter w(out);
  std::lock_guard lock(mutex_);
  std::set<std::string> done;
  for (const auto& e : counters_) {
    if (!done.insert(e.name).second) continue;
    w.family(e.name, "counter", e.help);
    for (const auto& f : counters_)
      if (f.name == e.name) w.sample(f.name, f.labels, static_cast<double>(f.counter.value()));
  }
  done.clear();
  for (const auto& e : histograms_) {
    if (!done.insert(e.name).second) continue;
    w.family(e.name, "histogram", e.help);
    for (const auto& f : histograms_) {
      if (f.name != e.name) continue;
      const Histogram& h = *f.histogram;
      for (size_t i = 0; i <= h.bounds().size(); ++i) {
        auto labels = f.labels;
        char le[32];
        if (i < h.bounds().size()) std::snprintf(le, sizeof le, "%g", h.bounds()[i]);
        else std::snprintf(le, sizeof le, "+Inf");
        labels.emplace_back("le", le);
        w.sample(f.name + "_bucket", labels, static_cast<double>(h.cumulative(i)));
      }
      w.sample(f.name + "_sum", f.labels, h.sum());
      w.sample(f.name + "_count", f.labels, static_cast<double>(h.count()));
    }
  }
  for (const auto& c : collectors_) c(w);
  return out;
}

}  // namespace anchorcast
