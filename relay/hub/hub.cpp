#include "anchorcast/hub/hub.hpp"

#include <algorithm>
#include <mutex>

namespace anchorcast {

Status Hub::add(std::string id, std::string publish_key) {
  std::unique_lock lock(mutex_);
  for (const auto& s : streams_) {
    if (s->id() == id) return make_error("stream '" + id + "' already exists");
    if (s->publish_key_matches(publish_key))
      return make_error("stream '" + id + "': publish_key is already used by stream '" + s->id() + "'");
  }
  streams_.push_back(std::make_shared<Stream>(std::move(id), std::move(publish_key)));
  return {};
}

bool Hub::remove(std::string_view id) {
  std::shared_ptr<Stream> removed;
  {
    std::unique_lock lock(mutex_);
    auto it = std::find_if(streams_.begin(), streams_.end(), [&](const auto& s) { return s->id() == id; });
    if (it == streams_.end()) return false;
    removed = *it;
    streams_.erase(it);
  }
  removed->close();
  return true;
}

std::shared_ptr<Stream> Hub::find(std::string_view id) const {
  std::shared_lock lock(mutex_);
  for (const auto& s : streams_)
    if (s->id() == id) return s;
  return nullptr;
}

std::shared_ptr<Stream> Hub::find_by_publish_key(std::string_view key) const {
  std::shared_lock lock(mutex_);
  std::shared_ptr<Stream> found;
  for (const auto& s : streams_)  // no early exit: every stream costs the same
    if (s->publish_key_matches(key) && !found) found = s;
  return found;
}

std::vector<std::shared_ptr<Stream>> Hub::streams() const {
  std::shared_lock lock(mutex_);
  return streams_;
}

}  // namespace anchorcast
