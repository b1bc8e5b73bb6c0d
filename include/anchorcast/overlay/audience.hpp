// Clicks and impressions reported by viewer pages (POST /api/v1/streams/{id}/events),
// capped per client address and counted per stream, for the `stats` message merchants
// get on the control channel. The clock is passed in (unit tests, no globals).
// Not thread-safe: the HTTP thread records and reads.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "anchorcast/core/result.hpp"
#include "control/rate_limiter.hpp"

namespace anchorcast {

class ViewerEvents {
 public:
  static constexpr size_t kMaxBodyBytes = 1024;
  static constexpr int kPerAddressPerSecond = 10;
  // Distinct overlay ids counted per stream: a page inventing ids cannot grow memory.
  static constexpr size_t kMaxIdsPerStream = 256;
  // Addresses remembered for rate limiting; idle ones are dropped first.
  static constexpr size_t kMaxAddresses = 65536;

  enum class Refusal { too_large, rate_limited, invalid, too_many_ids };
  struct Refused {
    Refusal reason;
    std::string message;
  };

  struct Counts {
    std::map<std::string, int64_t> clicks;
    std::map<std::string, int64_t> impressions;
    uint64_t changes = 0;  // bumped by every counted event: "has anything changed since"
  };

  // Counts one {"type":"click"|"impression","id":"c1"} from `address` (an IP, no port);
  // nullopt when counted.
  std::optional<Refused> record(const std::string& stream, std::string_view address, std::string_view body,
                                int64_t now_ms);
  const Counts* counts(const std::string& stream) const;  // null: nothing counted yet
  void forget(const std::string& stream) { streams_.erase(stream); }

 private:
  struct Client {
    control::RateLimiter limiter{kPerAddressPerSecond};
    int64_t last_ms = 0;
  };
  void prune_clients(int64_t now_ms);

  std::unordered_map<std::string, Client> clients_;
  std::map<std::string, Counts, std::less<>> streams_;
};

// "203.0.113.9:5123" → "203.0.113.9", "[::1]:80" → "::1": viewers are capped per address,
// not per connection (a page may open many).
std::string address_without_port(std::string_view remote);

}  // namespace anchorcast
