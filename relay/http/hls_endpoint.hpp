// GET /hls/{id}/{file}: the HTTP face of the HLS egress (egress/hls/hls_service), which
// owns the feeds and packagers. This only turns requests into its lookups and its answers
// into responses: status codes, content types, cache headers, error messages.
#pragma once

#include <functional>
#include <string>

#include "anchorcast/core/config.hpp"
#include "anchorcast/egress/hls_service.hpp"
#include "anchorcast/hub/hub.hpp"
#include "relay/http/http_message.hpp"

namespace anchorcast {

class HlsEndpoint {
 public:
  // `post` runs a task on the thread that feeds the packagers.
  HlsEndpoint(const Hub& hub, HlsConfig config, std::function<void(std::function<void()>)> post)
      : hub_(hub), service_(config, std::move(post)) {}

  // Feeding thread: see HlsService.
  void attach(const Hub& hub, const std::string& stream_id) { service_.attach(hub, stream_id); }
  void detach(const std::string& stream_id) { service_.detach(stream_id); }
  void close() { service_.close(); }
  // Any thread (the data-plane loops serve players): the answer to a request whose path
  // starts with "/hls/".
  HttpResponse route(const HttpRequest& request);
  int viewers(const std::string& stream_id) const { return service_.viewers(stream_id); }  // any thread

 private:
  // `file` is "index.m3u8" or a segment name.
  HttpResponse serve(const std::string& stream_id, Rendition rendition, const std::string& file,
                     const HttpRequest& request);

  const Hub& hub_;
  HlsService service_;
};

}  // namespace anchorcast
