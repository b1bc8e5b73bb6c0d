#include "relay/egress/webrtc/feed/rtp_feed_registry.hpp"

namespace anchorcast::webrtc {

std::shared_ptr<RtpFeed> RtpFeedRegistry::get(const std::shared_ptr<Stream>& stream, Rendition rendition) {
  if (!stream) return nullptr;
  std::lock_guard lock(mutex_);
  // Drop entries whose feed is gone, so the map does not grow with every stream ever watched.
  for (auto it = feeds_.begin(); it != feeds_.end();) it = it->second.expired() ? feeds_.erase(it) : std::next(it);
  auto& slot = feeds_[{stream.get(), rendition}];
  if (auto feed = slot.lock()) return feed;
  auto feed = RtpFeed::create(stream, stream->id() + (rendition == Rendition::source ? "/source" : "/main"));
  slot = feed;
  return feed;
}

}  // namespace anchorcast::webrtc
