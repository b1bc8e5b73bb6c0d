// Per-connection command rate limit: a token bucket holding one second's worth of
// commands, refilled continuously. The clock is passed in (unit tests, no globals).
#pragma once

#include <algorithm>
#include <cstdint>

namespace anchorcast::control {

class RateLimiter {
 public:
  explicit RateLimiter(int per_second) : rate_(std::max(per_second, 1)), milli_tokens_(rate_ * 1000LL) {}

  bool allow(int64_t now_ms) {
    if (last_ms_ >= 0 && now_ms > last_ms_)
      milli_tokens_ = std::min<int64_t>(rate_ * 1000LL, milli_tokens_ + (now_ms - last_ms_) * rate_);
    if (last_ms_ < 0 || now_ms > last_ms_) last_ms_ = now_ms;
    if (milli_tokens_ < 1000) return false;
    milli_tokens_ -= 1000;
    return true;
  }

 private:
  int64_t rate_;
  int64_t milli_tokens_;
  int64_t last_ms_ = -1;
};

}  // namespace anchorcast::control
