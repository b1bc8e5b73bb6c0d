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
  for (const auto& c : collectors_) c(w);
  return out;
}

}  // namespace anchorcast
