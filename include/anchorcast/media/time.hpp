// Timestamps carry their time base; convert with rescale() and nothing else.
#pragma once

#include <cstdint>

namespace anchorcast {

struct TimeBase {
  int64_t num = 1;
  int64_t den = 1000;
  friend bool operator==(TimeBase, TimeBase) = default;
};

inline constexpr TimeBase kMillis{1, 1000};
inline constexpr TimeBase kMicros{1, 1000000};
inline constexpr TimeBase k90kHz{1, 90000};

// value * from / to, rounded to nearest (ties away from zero), without overflow for
// any timestamp a stream can reach (128-bit intermediate).
constexpr int64_t rescale(int64_t value, TimeBase from, TimeBase to) {
  __int128 n = static_cast<__int128>(value) * from.num * to.den;
  __int128 d = static_cast<__int128>(from.den) * to.num;
  __int128 half = d / 2;
  return static_cast<int64_t>(n >= 0 ? (n + half) / d : (n - half) / d);
}

}  // namespace anchorcast
