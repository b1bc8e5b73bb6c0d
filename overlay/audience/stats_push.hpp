// Once a second on the HTTP thread: each stream's click and impression counts and its
// viewer count go to the stream's merchants as
// {"type":"stats","clicks":{..},"impressions":{..},"viewers":N} when something changed
// since the last push, or a merchant joined.
#pragma once

#include <map>
#include <string>

#include "anchorcast/hub/hub.hpp"
#include "anchorcast/overlay/control_plane.hpp"
#include "http/hls_endpoint.hpp"
#include "http/viewer_events.hpp"

namespace anchorcast {

class StatsPush {
 public:
  StatsPush(Hub& hub, HlsEndpoint& hls, const ViewerEvents& events, ControlPlane& control)
      : hub_(hub), hls_(hls), events_(events), control_(control) {}
  void tick();

 private:
  struct Sent {
    uint64_t changes = 0;
    int viewers = -1;
    size_t merchants = 0;
  };
  Hub& hub_;
  HlsEndpoint& hls_;
  const ViewerEvents& events_;
  ControlPlane& control_;
  std::map<std::string, Sent> sent_;
};

// The stats message (pure: unit-tested).
std::string stats_json(const ViewerEvents::Counts* counts, int viewers);

}  // namespace anchorcast
