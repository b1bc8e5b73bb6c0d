#include "overlay/state/asset_cache.hpp"

#include "overlay/state/overlay_store.hpp"

namespace anchorcast::overlay {

AssetCache::Bytes AssetCache::find(const std::string& id) const {
  std::lock_guard lock(mutex_);
  auto it = bytes_.find(id);
  return it == bytes_.end() ? nullptr : it->second;
}

void AssetCache::put(const std::string& id, Bytes bytes) {
  std::lock_guard lock(mutex_);
  bytes_[id] = std::move(bytes);
}

void AssetCache::add_committed(const std::vector<StoreWrite>& writes) {
  for (const auto& w : writes)
    for (const auto& op : w.ops)
      if (op.kind == StoreOp::Kind::put_asset && op.image) put(op.id, Bytes(op.image, &op.image->bytes));
}

void AssetCache::load_missing(const std::vector<OverlayRecord>& overlays, OverlayStore& store) {
  for (const auto& r : overlays) {
    const std::string& id = r.overlay.image;
    if (id.empty() || find(id)) continue;
    auto stored = store.read_asset(id);
    if (stored && *stored) put(id, std::make_shared<const std::string>(std::move((*stored)->second)));
  }
}

bool AssetCache::over_limit() const {
  std::lock_guard lock(mutex_);
  return bytes_.size() > soft_limit_;
}

void AssetCache::keep_only(const std::set<std::string, std::less<>>& shown) {
  std::lock_guard lock(mutex_);
  std::erase_if(bytes_, [&](const auto& entry) { return !shown.count(entry.first); });
}

}  // namespace anchorcast::overlay
