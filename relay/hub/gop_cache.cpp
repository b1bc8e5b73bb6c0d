#include "relay/hub/gop_cache.hpp"

namespace anchorcast {

void GopCache::add(const PacketPtr& packet) {
  if (packet->kind == MediaKind::video && packet->keyframe) {
    clear();
    in_gop_ = true;
  }
  if (!in_gop_) return;
  if (packets_.size() + 1 > max_packets_ || bytes_ + packet->bytes().size() > max_bytes_) {
    clear();  // an absurd GOP: new viewers wait for the next keyframe instead
    return;
  }
  packets_.push_back(packet);
  bytes_ += packet->bytes().size();
}

void GopCache::clear() {
  packets_.clear();
  bytes_ = 0;
  in_gop_ = false;
}

}  // namespace anchorcast
