#include "anchorcast/hub/hub.hpp"

#include <algorithm>
#include <mutex>

namespace anchorcast {

std::optional<Rendition> parse_rendition(std::string_view value) {
  if (value.empty() || value == "main") return Rendition::main;
  if (value == "source") return Rendition::source;
  return std::nullopt;
}

Status Hub::add(std::string id, std::string publish_key, bool composited) {
  std::unique_lock lock(mutex_);
  for (const auto& s : streams_) {
    if (s->id() == id) return make_error("stream '" + id + "' already exists");
    if (s->publish_key_matches(publish_key))
      return make_error("stream '" + id + "': publish_key is already used by stream '" + s->id() + "'");
  }
  // The main rendition has no publish key: only the compositor publishes into it, and
  // find_by_publish_key never looks at it.
  composited_.push_back(composited ? std::make_shared<Stream>(id, std::string()) : nullptr);
  streams_.push_back(std::make_shared<Stream>(std::move(id), std::move(publish_key)));
  return {};
}

bool Hub::remove(std::string_view id) {
  std::shared_ptr<Stream> removed, removed_main;
  {
    std::unique_lock lock(mutex_);
    auto it = std::find_if(streams_.begin(), streams_.end(), [&](const auto& s) { return s->id() == id; });
    if (it == streams_.end()) return false;
    size_t i = static_cast<size_t>(it - streams_.begin());
    removed = streams_[i];
    removed_main = composited_[i];
    streams_.erase(it);
    composited_.erase(composited_.begin() + static_cast<std::ptrdiff_t>(i));
  }
  removed->close();
  if (removed_main) removed_main->close();
  return true;
}

std::shared_ptr<Stream> Hub::find(std::string_view id) const {
  std::shared_lock lock(mutex_);
  for (const auto& s : streams_)
    if (s->id() == id) return s;
  return nullptr;
}

std::shared_ptr<Stream> Hub::find(std::string_view id, Rendition rendition) const {
  std::shared_lock lock(mutex_);
  for (size_t i = 0; i < streams_.size(); ++i)
    if (streams_[i]->id() == id) return rendition == Rendition::main && composited_[i] ? composited_[i] : streams_[i];
  return nullptr;
}

std::shared_ptr<Stream> Hub::composited(std::string_view id) const {
  std::shared_lock lock(mutex_);
  for (size_t i = 0; i < streams_.size(); ++i)
    if (streams_[i]->id() == id) return composited_[i];
  return nullptr;
}

std::shared_ptr<Stream> Hub::find_by_publish_key(std::string_view key) const {
  std::shared_lock lock(mutex_);
  std::shared_ptr<Stream> found;
  for (const auto& s : streams_)  // no early exit: every stream costs the same
    if (s->publish_key_matches(key) && !found) found = s;
  return found;
}

std::vector<StreamSnapshot> Hub::snapshots() const {
  std::vector<std::shared_ptr<Stream>> sources, mains;
  {
    std::shared_lock lock(mutex_);
    sources = streams_;
    mains = composited_;
  }
  std::vector<StreamSnapshot> out;
  out.reserve(sources.size());
  for (size_t i = 0; i < sources.size(); ++i) {
    out.push_back(sources[i]->snapshot());
    if (!mains[i]) continue;
    StreamSnapshot main = mains[i]->snapshot();
    for (int p = 0; p < static_cast<int>(ViewerProtocol::count_); ++p) out.back().viewers[p] += main.viewers[p];
    out.back().packets_dropped += main.packets_dropped;
  }
  return out;
}

std::vector<std::shared_ptr<Stream>> Hub::streams() const {
  std::shared_lock lock(mutex_);
  return streams_;
}

}  // namespace anchorcast
