#include "anchorcast/core/log.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>

namespace anchorcast::log {

namespace {
// The one process-wide setting: fixed at start-up, read by every thread.
std::atomic<int> g_min_level{static_cast<int>(Level::info)};

const char* level_name(Level level) {
  switch (level) {
    case Level::debug: return "DEBUG";
    case Level::info: return "INFO ";
    case Level::warn: return "WARN ";
    case Level::error: return "ERROR";
  }
  return "?";
}
}  // namespace

void set_min_level(Level level) { g_min_level.store(static_cast<int>(level)); }

bool enabled(Level level) { return static_cast<int>(level) >= g_min_level.load(std::memory_order_relaxed); }

void write(Level level, std::string_view line) {
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char stamp[64];
  std::snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  std::string out;
  out.reserve(line.size() + 48);
  out += stamp;
  out += ' ';
  out += level_name(level);
  out += ' ';
  out += line;
  out += '\n';
  // One fwrite per line: stdio locks the stream, so lines from threads never interleave.
  std::fwrite(out.data(), 1, out.size(), stderr);
}

}  // namespace anchorcast::log
