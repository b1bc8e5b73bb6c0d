#include "overlay/audience/stats_push.hpp"

#include <nlohmann/json.hpp>

#include "anchorcast/overlay/control_plane.hpp"

namespace anchorcast {

std::string stats_json(const ViewerEvents::Counts* counts, int viewers) {
  nlohmann::json j = {{"type", "stats"},
                      {"clicks", nlohmann::json::object()},
                      {"impressions", nlohmann::json::object()},
                      {"viewers", viewers}};
  if (counts) {
    for (const auto& [id, n] : counts->clicks) j["clicks"][id] = n;
    for (const auto& [id, n] : counts->impressions) j["impressions"][id] = n;
  }
  return j.dump();
}

void StatsPush::tick() {
  for (const StreamSnapshot& s : hub_.snapshots()) {
    size_t merchants = control_.merchant_count(s.id);
    Sent& sent = sent_[s.id];
    if (merchants == 0) {
      sent.merchants = 0;
      continue;
    }
    int viewers = viewers_(s);
    const ViewerEvents::Counts* counts = events_.counts(s.id);
    uint64_t changes = counts ? counts->changes : 0;
    if (changes == sent.changes && viewers == sent.viewers && merchants <= sent.merchants) {
      sent.merchants = merchants;
      continue;
    }
    control_.send_to_merchants(s.id, stats_json(counts, viewers));
    sent = {changes, viewers, merchants};
  }
}

}  // namespace anchorcast
