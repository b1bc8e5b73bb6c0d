// Logs go to stderr, one line per call: "2026-11-24T12:00:00.123Z INFO  rtmp: ...".
#pragma once

#include <sstream>
#include <string>
#include <string_view>

namespace anchorcast::log {

enum class Level { debug = 0, info = 1, warn = 2, error = 3 };

void set_min_level(Level level);  // once, at start-up
bool enabled(Level level);
void write(Level level, std::string_view line);

template <class... Parts>
void emit(Level level, const Parts&... parts) {
  if (!enabled(level)) return;
  std::ostringstream out;
  (out << ... << parts);
  write(level, out.str());
}

template <class... P> void debug(const P&... p) { emit(Level::debug, p...); }
template <class... P> void info(const P&... p) { emit(Level::info, p...); }
template <class... P> void warn(const P&... p) { emit(Level::warn, p...); }
template <class... P> void error(const P&... p) { emit(Level::error, p...); }

}  // namespace anchorcast::log
