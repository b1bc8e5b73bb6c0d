// Shares one RtpFeed per (stream, rendition) between the sessions watching it. A feed
// outlives its last session by `linger` (30 s): a viewer who reloads the page, or the next
// one to arrive, finds it running — which matters most for a feed that transcodes (its
// encoder restarting would cost a keyframe wait and a burst of CPU). A feed whose stream
// was removed goes at once. Thread-safe; a small thread of its own releases idle feeds.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "anchorcast/core/metrics.hpp"
#include "relay/egress/webrtc/feed/rtp_feed.hpp"

namespace anchorcast::webrtc {

// What a stream's feed delivers over WebRTC now, for the streams API.
struct FeedState {
  VideoDelivery video = VideoDelivery::none;
  bool transcoder_running = false;
  int subscribers = 0;
};

class RtpFeedRegistry {
 public:
  static constexpr std::chrono::seconds kDefaultLinger{30};
  // Without `metrics`, transcodes are not counted (unit tests).
  explicit RtpFeedRegistry(Metrics* metrics = nullptr, std::chrono::milliseconds linger = kDefaultLinger);
  ~RtpFeedRegistry();  // releases every feed
  RtpFeedRegistry(const RtpFeedRegistry&) = delete;
  RtpFeedRegistry& operator=(const RtpFeedRegistry&) = delete;

  // The live feed of `stream`, created on first use: pass the Stream that
  // Hub::find(id, rendition) returned. One feed per Stream, so a metadata stream (whose
  // main is its source) has one feed, and one transcode, for both names. `rendition`
  // labels a new feed in logs and metrics.
  std::shared_ptr<RtpFeed> get(const std::shared_ptr<Stream>& stream, Rendition rendition);

  // The feed of `stream` if one exists now (lingering ones included).
  std::optional<FeedState> state(const Stream* stream);

 private:
  void release_idle();

  Metrics* metrics_;
  const std::chrono::milliseconds linger_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  struct Entry {
    std::shared_ptr<RtpFeed> feed;
    // The last get() that returned it: a feed just handed to a session that has not
    // attached yet is not idle.
    std::chrono::steady_clock::time_point handed_out;
  };
  std::map<const Stream*, Entry> feeds_;
  std::thread releaser_;
};

}  // namespace anchorcast::webrtc
