// Shares one RtpFeed per (stream, rendition) between the sessions watching it; the feed
// lives while a session holds it (the registry keeps weak references). Thread-safe.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "relay/egress/webrtc/feed/rtp_feed.hpp"

namespace anchorcast::webrtc {

class RtpFeedRegistry {
 public:
  // The live feed of `stream`, created on first use. `rendition` only keys and labels
  // it: pass the Stream that Hub::find(id, rendition) returned.
  std::shared_ptr<RtpFeed> get(const std::shared_ptr<Stream>& stream, Rendition rendition);

 private:
  std::mutex mutex_;
  std::map<std::pair<const Stream*, Rendition>, std::weak_ptr<RtpFeed>> feeds_;
};

}  // namespace anchorcast::webrtc
