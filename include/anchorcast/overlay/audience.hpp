// The audience of a stream, for its merchants (overlay/audience/): clicks and
// impressions that viewer pages report (POST /api/v1/streams/{id}/events), capped per
// client address and counted per stream, and the once-a-second `stats` message
// {"type":"stats","clicks":{..},"impressions":{..},"viewers":N} on the control channel.
// The clock is passed in (unit tests, no globals). Not thread-safe: the HTTP thread
// records, reads and ticks.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "anchorcast/hub/hub.hpp"

namespace anchorcast {

class ControlPlane;

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

  ViewerEvents();
  ~ViewerEvents();
  ViewerEvents(const ViewerEvents&) = delete;
  ViewerEvents& operator=(const ViewerEvents&) = delete;

  // Counts one {"type":"click"|"impression","id":"c1"} from `address` (an IP, no port);
  // nullopt when counted.
  std::optional<Refused> record(const std::string& stream, std::string_view address, std::string_view body,
                                int64_t now_ms);
  const Counts* counts(const std::string& stream) const;  // null: nothing counted yet
  void forget(const std::string& stream);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// "203.0.113.9:5123" → "203.0.113.9", "[::1]:80" → "::1": viewers are capped per address,
// not per connection (a page may open many).
std::string address_without_port(std::string_view remote);

// Sends each stream's merchants its counts and viewer count when something changed since
// the last push, or a merchant joined. `viewers` counts a stream's viewers (the relay
// knows how: the hub's sessions plus HLS clients).
class StatsPush {
 public:
  using ViewerCount = std::function<int(const StreamSnapshot&)>;
  StatsPush(Hub& hub, ViewerCount viewers, const ViewerEvents& events, ControlPlane& control)
      : hub_(hub), viewers_(std::move(viewers)), events_(events), control_(control) {}
  void tick();  // once a second

 private:
  struct Sent {
    uint64_t changes = 0;
    int viewers = -1;
    size_t merchants = 0;
  };
  Hub& hub_;
  ViewerCount viewers_;
  const ViewerEvents& events_;
  ControlPlane& control_;
  std::map<std::string, Sent> sent_;
};

}  // namespace anchorcast
