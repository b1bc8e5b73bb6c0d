// The registry of Streams by id, and the publish-key lookup ingest modules use.
#pragma once

#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "anchorcast/hub/stream.hpp"

namespace anchorcast {

class Hub {
 public:
  // Fails when the id or the publish key is already taken.
  Status add(std::string id, std::string publish_key);
  bool remove(std::string_view id);  // closes the stream's viewers
  std::shared_ptr<Stream> find(std::string_view id) const;
  // Compares the key against every stream in constant time per stream; the answer does
  // not leak through timing which stream (or whether any) matched.
  std::shared_ptr<Stream> find_by_publish_key(std::string_view key) const;
  std::vector<std::shared_ptr<Stream>> streams() const;  // in insertion order

 private:
  mutable std::shared_mutex mutex_;
  std::vector<std::shared_ptr<Stream>> streams_;
};

}  // namespace anchorcast
