// The registry of Streams by id, and the publish-key lookup ingest modules use.
//
// Renditions: every stream has a `source` (what the anchor publishes, untouched). A
// composited stream (overlay mode burn-in) also has a `main` rendition: a second Stream
// of the same id that the compositor publishes into. Viewers get `main` by default and
// `source` with ?rendition=source; for other streams both names give the source.
#pragma once

#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "anchorcast/hub/stream.hpp"

namespace anchorcast {

enum class Rendition : uint8_t { main, source };
// The value of a `rendition` query parameter: "" or "main" → main, "source" → source.
std::optional<Rendition> parse_rendition(std::string_view value);

class Hub {
 public:
  // Fails when the id or the publish key is already taken.
  Status add(std::string id, std::string publish_key, bool composited = false);
  bool remove(std::string_view id);  // closes the stream's viewers (both renditions)
  std::shared_ptr<Stream> find(std::string_view id) const;  // the source
  std::shared_ptr<Stream> find(std::string_view id, Rendition rendition) const;
  // The `main` rendition of a composited stream; null for the others.
  std::shared_ptr<Stream> composited(std::string_view id) const;
  // Compares the key against every stream in constant time per stream; the answer does
  // not leak through timing which stream (or whether any) matched.
  std::shared_ptr<Stream> find_by_publish_key(std::string_view key) const;
  std::vector<std::shared_ptr<Stream>> streams() const;  // in insertion order (sources)
  // One snapshot per stream, in insertion order: the source's, with the viewers of its
  // main rendition added (a viewer is a viewer of the stream, whichever rendition).
  std::vector<StreamSnapshot> snapshots() const;

 private:
  mutable std::shared_mutex mutex_;
  std::vector<std::shared_ptr<Stream>> streams_;
  std::vector<std::shared_ptr<Stream>> composited_;  // parallel to streams_; null if none
};

}  // namespace anchorcast
