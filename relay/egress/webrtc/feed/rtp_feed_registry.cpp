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
  Entry& entry = feeds_[stream.get()];
  entry.handed_out = std::chrono::steady_clock::now();
  if (entry.feed && !entry.feed->stats().ended) return entry.feed;
  ended = std::move(entry.feed);
  const std::string name = rendition_name(rendition);
  entry.feed = RtpFeed::create(stream, stream->id() + "/" + name,
                               metrics_ ? TranscodeMetrics::in(*metrics_, stream->id(), name) : TranscodeMetrics{});
  wake_.notify_all();
  return entry.feed;
}

std::optional<FeedState> RtpFeedRegistry::state(const Stream* stream) {
  std::lock_guard lock(mutex_);
  auto it = feeds_.find(stream);
  if (it == feeds_.end()) return std::nullopt;
  const RtpFeedStats s = it->second.feed->stats();
  if (s.ended) return std::nullopt;
  return FeedState{s.video, s.transcoder_running, s.subscribers};
}

// Once a second while there are feeds: a feed idle for `linger_` (no session attached,
// none handed out) or whose stream ended is released. A session still holding it keeps it alive; the
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
    const auto now = std::chrono::steady_clock::now();
    for (auto it = feeds_.begin(); it != feeds_.end();) {
      const RtpFeedStats s = it->second.feed->stats();
      const bool idle = s.subscribers == 0 && s.idle >= linger_ && now - it->second.handed_out >= linger_;
      if (s.ended || idle) {
        released.push_back(std::move(it->second.feed));
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
