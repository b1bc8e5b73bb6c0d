// GET /hls/{id}/{file}: the HTTP face of the HLS egress (egress/hls/hls_service), which
// owns the feeds and packagers. This only turns its answers into responses: status
// codes, content types, cache headers, error messages.
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
  // `post` runs a task on the HTTP thread, which feeds the packagers.
  HlsEndpoint(HlsConfig config, std::function<void(std::function<void()>)> post)
      : service_(config, std::move(post)) {}

  // HTTP thread: see HlsService.
  void attach(const Hub& hub, const std::string& stream_id) { service_.attach(hub, stream_id); }
  void detach(const std::string& stream_id) { service_.detach(stream_id); }
  void close() { service_.close(); }
  // `file` is "index.m3u8" or a segment name.
  HttpResponse serve(const std::string& stream_id, Rendition rendition, const std::string& file,
                     const HttpRequest& request);
  int viewers(const std::string& stream_id) const { return service_.viewers(stream_id); }  // any thread

 private:
  HlsService service_;
};

}  // namespace anchorcast
