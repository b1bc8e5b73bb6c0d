// Maps a request to what answers it: a plain response, or a long-lived media stream
// that the server session then pumps (HTTP-FLV). Beast-free: unit-testable.
#pragma once

#include <memory>
#include <variant>

#include "anchorcast/core/metrics.hpp"
#include "anchorcast/hub/hub.hpp"
#include "http/hls_endpoint.hpp"
#include "http/http_message.hpp"

namespace anchorcast {

struct FlvPlayback {
  std::shared_ptr<Stream> stream;
};

using RouteResult = std::variant<HttpResponse, FlvPlayback>;

class Router {
 public:
  Router(Hub& hub, Metrics& metrics, HlsEndpoint& hls) : hub_(hub), metrics_(metrics), hls_(hls) {}
  RouteResult route(const HttpRequest& request);

 private:
  HttpResponse streams_json() const;

  Hub& hub_;
  Metrics& metrics_;
  HlsEndpoint& hls_;
};

}  // namespace anchorcast
