// The bytes of the assets (product images) that overlays show, for the compositors. A
// compositor reads them on its own thread, which must never wait on SQLite, so it reads
// only from here. Filled off that thread: with a commit's put_asset rows (the bytes are
// at hand), at open for the restored overlays, and by the control plane's writer, which
// already talks to SQLite, for a scene that shows an asset not cached yet, before the
// scene reaches a compositor. A miss on the compositor's thread therefore means the asset
// is not stored at all (the card shows a placeholder, as before), and there is no
// load-on-miss path to make thread-safe.
//
// Bounded: above kMaxOverlays entries, everything the overlays of no stream show is
// dropped (`keep_only`); an evicted asset that a later command shows again is read once
// more by the writer. Images are at most 1 MiB (control::kMaxImageBytes).
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "overlay/state/overlay_state.hpp"

namespace anchorcast::overlay {

class OverlayStore;
struct StoreWrite;

class AssetCache {
 public:
  using Bytes = std::shared_ptr<const std::string>;

  explicit AssetCache(size_t soft_limit = kMaxOverlays) : soft_limit_(soft_limit) {}

  // Any thread. Null when the asset is not cached.
  Bytes find(const std::string& id) const;

  // The put_asset rows of a committed transaction (shares their bytes, no copy).
  void add_committed(const std::vector<StoreWrite>& writes);
  // Reads from `store` every image `overlays` show that is not cached yet.
  void load_missing(const std::vector<OverlayRecord>& overlays, OverlayStore& store);

  bool over_limit() const;
  // Forgets every asset not in `shown` (the images the overlays of every stream show).
  void keep_only(const std::set<std::string, std::less<>>& shown);

 private:
  void put(const std::string& id, Bytes bytes);

  const size_t soft_limit_;
  mutable std::mutex mutex_;
  std::map<std::string, Bytes, std::less<>> bytes_;
};

}  // namespace anchorcast::overlay
