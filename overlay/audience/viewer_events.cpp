#include <algorithm>
#include <nlohmann/json.hpp>
#include <unordered_map>
#include <vector>

#include "anchorcast/overlay/audience.hpp"
#include "overlay/control/rate_limiter.hpp"

namespace anchorcast {

namespace {

// Same rule as overlay ids on the control channel, so a counter names a real card.
bool valid_overlay_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
           c == ':' || c == '-';
  });
}

}  // namespace

struct ViewerEvents::Impl {
  struct Client {
    control::RateLimiter limiter{kPerAddressPerSecond};
    int64_t last_ms = 0;
  };
  void prune_clients(int64_t now_ms);

  std::unordered_map<std::string, Client> clients;
  std::map<std::string, Counts, std::less<>> streams;
};

ViewerEvents::ViewerEvents() : impl_(std::make_unique<Impl>()) {}
ViewerEvents::~ViewerEvents() = default;

void ViewerEvents::forget(const std::string& stream) { impl_->streams.erase(stream); }

std::string address_without_port(std::string_view remote) {
  if (!remote.empty() && remote.front() == '[') {
    auto close = remote.find(']');
    return std::string(remote.substr(1, close == std::string_view::npos ? std::string_view::npos : close - 1));
  }
  auto colon = remote.rfind(':');
  if (colon == std::string_view::npos || remote.find(':') != colon) return std::string(remote);
  return std::string(remote.substr(0, colon));
}

std::optional<ViewerEvents::Refused> ViewerEvents::record(const std::string& stream, std::string_view address,
                                                          std::string_view body, int64_t now_ms) {
  if (body.size() > kMaxBodyBytes)
    return Refused{Refusal::too_large, "event body over " + std::to_string(kMaxBodyBytes) + " bytes"};
  auto& clients = impl_->clients;
  if (clients.size() >= kMaxAddresses && !clients.count(std::string(address))) impl_->prune_clients(now_ms);
  Impl::Client& client = clients[std::string(address)];
  client.last_ms = now_ms;
  if (!client.limiter.allow(now_ms))
    return Refused{Refusal::rate_limited,
                   "more than " + std::to_string(kPerAddressPerSecond) + " events per second from this address"};

  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return Refused{Refusal::invalid, R"(body: send JSON {"type":"click"|"impression","id":"c1"})"};
  auto type = j.find("type");
  auto id = j.find("id");
  if (type == j.end() || !type->is_string() || (*type != "click" && *type != "impression"))
    return Refused{Refusal::invalid, R"(type: use "click" or "impression")"};
  if (id == j.end() || !id->is_string() || !valid_overlay_id(id->get_ref<const std::string&>()))
    return Refused{Refusal::invalid, "id: an overlay id, [A-Za-z0-9_.:-]{1,64}"};

  Counts& counts = impl_->streams[stream];
  auto& table = *type == "click" ? counts.clicks : counts.impressions;
  const std::string& key = id->get_ref<const std::string&>();
  auto it = table.find(key);
  if (it == table.end()) {
    if (counts.clicks.size() + counts.impressions.size() >= 2 * kMaxIdsPerStream || table.size() >= kMaxIdsPerStream)
      return Refused{Refusal::too_many_ids,
                     "over " + std::to_string(kMaxIdsPerStream) + " distinct overlay ids counted on this stream"};
    it = table.emplace(key, 0).first;
  }
  ++it->second;
  ++counts.changes;
  return std::nullopt;
}

const ViewerEvents::Counts* ViewerEvents::counts(const std::string& stream) const {
  auto it = impl_->streams.find(stream);
  return it == impl_->streams.end() ? nullptr : &it->second;
}

void ViewerEvents::Impl::prune_clients(int64_t now_ms) {
  // A bucket idle for a second is full again: forgetting it changes no answer.
  std::erase_if(clients, [now_ms](const auto& entry) { return now_ms - entry.second.last_ms > 1000; });
  if (clients.size() < kMaxAddresses) return;
  // Still full (a flood from many addresses): drop the older half.
  std::vector<int64_t> times;
  times.reserve(clients.size());
  for (const auto& [_, c] : clients) times.push_back(c.last_ms);
  auto mid = times.begin() + static_cast<std::ptrdiff_t>(times.size() / 2);
  std::nth_element(times.begin(), mid, times.end());
  int64_t cut = *mid;
  std::erase_if(clients, [cut](const auto& entry) { return entry.second.last_ms <= cut; });
}

}  // namespace anchorcast
