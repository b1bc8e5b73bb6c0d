#include "relay/egress/webrtc/feed/rtp_feed_registry.hpp"

#include <algorithm>

namespace anchorcast::webrtc {
namespace {

const char* rendition_name(Rendition rendition) { return rendition == Rendition::source ? "source" : "main"; }

}  // namespace

RtpFeedRegistry::RtpFeedRegistry(Metrics* metrics, std::chrono::milliseconds linger)
    : metrics_(metrics), linger_(linger) {
  releaser_ = std::thread([this] { release_idle(); });
}

RtpFeedRegistry::~RtpFeedRegistry() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  releaser_.join();
  decltype(feeds_) feeds;
  {
    std::lock_guard lock(mutex_);
    feeds.swap(feeds_);
  }
  // Destroyed here, outside the lock: each joins its worker.
}

std::shared_ptr<RtpFeed> RtpFeedRegistry::get(const std::shared_ptr<Stream>& stream, Rendition rendition) {
  if (!stream) return nullptr;
  std::shared_ptr<RtpFeed> ended;  // released after the lock
  std::lock_guard lock(mutex_);
  auto& slot = feeds_[stream.get()];
  if (slot && !slot->stats().ended) return slot;
  ended = std::move(slot);
  const std::string name = rendition_name(rendition);
  slot = RtpFeed::create(stream, stream->id() + "/" + name,
                         metrics_ ? TranscodeMetrics::in(*metrics_, stream->id(), name) : TranscodeMetrics{});
  wake_.notify_all();
  return slot;
}

std::optional<FeedState> RtpFeedRegistry::state(const Stream* stream) {
  std::lock_guard lock(mutex_);
  auto it = feeds_.find(stream);
  if (it == feeds_.end()) return std::nullopt;
  const RtpFeedStats s = it->second->stats();
  if (s.ended) return std::nullopt;
  return FeedState{s.video, s.transcoder_running, s.subscribers};
}

// Once a second while there are feeds: a feed idle for `linger_` (no session attached)
// or whose stream ended is released. A session still holding it keeps it alive; the
// registry just stops handing it out (a next viewer gets a new one).
void RtpFeedRegistry::release_idle() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    if (feeds_.empty())
      wake_.wait(lock, [&] { return stopping_ || !feeds_.empty(); });
    else
      wake_.wait_for(lock, std::min<std::chrono::milliseconds>(linger_, std::chrono::seconds(1)));
    if (stopping_) break;
    std::vector<std::shared_ptr<RtpFeed>> released;
    for (auto it = feeds_.begin(); it != feeds_.end();) {
      const RtpFeedStats s = it->second->stats();
      if (s.ended || (s.subscribers == 0 && s.idle >= linger_)) {
        released.push_back(std::move(it->second));
        it = feeds_.erase(it);
      } else {
        ++it;
      }
    }
    if (released.empty()) continue;
    lock.unlock();
    released.clear();  // joins the feeds' workers, outside the lock
    lock.lock();
  }
}

}  // namespace anchorcast::webrtc
