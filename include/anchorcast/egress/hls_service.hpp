// Every stream's live HLS, kept in memory: one HlsPackager per stream and rendition, fed
// by a hub subscription drained on the thread that `post` runs tasks on (muxing a stream
// costs little next to serving it; the per-viewer work is only handing out shared
// segments). Answers lookups from any thread (the data-plane loops serve the players)
// with bytes or a reason; turning those into HTTP is the caller's (http/hls_endpoint).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <variant>

#include "anchorcast/core/config.hpp"
#include "anchorcast/hub/hub.hpp"

namespace anchorcast {

class HlsPackager;

// Why a lookup has no bytes.
enum class HlsMiss {
  unknown_stream,   // never attached (or detached)
  not_live,         // no publisher, and the reconnect grace is over, or no media yet
  no_segment_yet,   // live, but the first segment is not complete
  unknown_segment,  // not listed, or slid out too long ago
};

using HlsPlaylist = std::variant<std::string, HlsMiss>;
using HlsSegment = std::variant<std::shared_ptr<const std::string>, HlsMiss>;

class HlsService {
 public:
  // `post` runs a task on the feeding thread; the hub's notify calls it.
  HlsService(HlsConfig config, std::function<void(std::function<void()>)> post);
  ~HlsService();
  HlsService(const HlsService&) = delete;
  HlsService& operator=(const HlsService&) = delete;

  // Feeding thread, as attach/detach/close. Packages the source and, for a composited
  // stream, the main rendition.
  void attach(const Hub& hub, const std::string& stream_id);
  void detach(const std::string& stream_id);
  void close();  // drops every subscription

  // A stream without a separate main rendition serves its source for both. When a
  // separate source is asked for, each segment URI carries "?rendition=source" (URIs are
  // relative, so a player would drop the query). `client` identifies a player for
  // viewers(): a playlist fetch counts it. Any thread, as segment().
  HlsPlaylist playlist(const std::string& stream_id, Rendition rendition, std::string_view client);
  HlsSegment segment(const std::string& stream_id, Rendition rendition, std::string_view name) const;

  // Distinct clients that fetched the stream's playlist in the last 15 s. Any thread.
  int viewers(const std::string& stream_id) const;

 private:
  struct Feed;
  void attach(const std::shared_ptr<Stream>& stream, Rendition rendition);
  void drain(Feed& feed);
  // The feed that answers, or why none does.
  std::variant<std::shared_ptr<const Feed>, HlsMiss> live_feed(const std::string& stream_id,
                                                               Rendition rendition) const;
  bool has_feed(const std::string& stream_id, Rendition rendition) const;

  HlsConfig config_;
  std::function<void(std::function<void()>)> post_;
  // Written by the feeding thread, read by any: a lookup holds its Feed by shared_ptr, so
  // a detach meanwhile only ends the feed once the answer is out.
  mutable std::shared_mutex feeds_mutex_;
  std::map<std::pair<std::string, Rendition>, std::shared_ptr<Feed>> feeds_;
  mutable std::mutex viewers_mutex_;                                           // viewers() is read by any thread
  std::map<std::string, std::map<std::string, std::chrono::steady_clock::time_point>> seen_;
};

}  // namespace anchorcast
