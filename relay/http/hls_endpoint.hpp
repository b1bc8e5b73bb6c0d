// Serves every stream's HLS playlist and segments from memory. One HlsPackager per
// stream, fed by a hub subscription drained on the HTTP thread (muxing a stream costs
// little next to serving it; the per-viewer work is only handing out shared segments).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "anchorcast/core/config.hpp"
#include "anchorcast/hub/hub.hpp"
#include "relay/http/http_message.hpp"

namespace anchorcast {

class HlsPackager;

class HlsEndpoint {
 public:
  // `post` runs a task on the HTTP thread; the hub's notify calls it.
  HlsEndpoint(HlsConfig config, std::function<void(std::function<void()>)> post);
  ~HlsEndpoint();

  // HTTP thread. Packages the source and, for a composited stream, the main rendition.
  void attach(const Hub& hub, const std::string& stream_id);
  void detach(const std::string& stream_id);  // HTTP thread
  // `file` is "index.m3u8" or a segment name. A stream without a separate main
  // rendition serves its source for both.
  HttpResponse serve(const std::string& stream_id, Rendition rendition, const std::string& file,
                     const HttpRequest& request);
  int viewers(const std::string& stream_id) const;  // distinct clients seen in the last 15 s
  void close();                                     // HTTP thread: drops every subscription

 private:
  struct Feed;
  void attach(const std::shared_ptr<Stream>& stream, Rendition rendition);
  void drain(Feed& feed);

  HlsConfig config_;
  std::function<void(std::function<void()>)> post_;
  std::map<std::pair<std::string, Rendition>, std::shared_ptr<Feed>> feeds_;  // HTTP thread only
  mutable std::mutex viewers_mutex_;                     // viewers() is read by any thread
  std::map<std::string, std::map<std::string, std::chrono::steady_clock::time_point>> seen_;
};

}  // namespace anchorcast
