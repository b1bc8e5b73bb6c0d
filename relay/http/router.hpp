// Maps a request to what answers it: a plain response, one that needs another thread
// first, or a long-lived media stream whose socket the server session hands to the FLV
// egress (anchorcast/egress/flv_viewer.hpp).
// Beast-free: unit-testable.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <variant>

#include "anchorcast/core/metrics.hpp"
#include "anchorcast/hub/hub.hpp"
#include "anchorcast/overlay/audience.hpp"
#include "anchorcast/overlay/control_plane.hpp"
#include "relay/http/hls_endpoint.hpp"
#include "relay/http/http_message.hpp"

namespace anchorcast {

struct FlvPlayback {
  std::shared_ptr<Stream> stream;
};

// An authorised WebSocket upgrade on /control/{id}: the server hands the socket to the
// control channel (http/control_socket.hpp).
struct ControlUpgrade {
  std::string stream_id;
};

// An answer that waits for the control plane (an image decode, a durable commit): the
// HTTP thread must not. `start` runs on the HTTP thread and calls `done` once, from any
// thread; the server then runs `answer` on the HTTP thread and writes what it returns
// (it also runs when the client has left: it may finish the change, e.g. attach HLS).
struct DeferredResponse {
  using Done = std::function<void(std::function<HttpResponse()> answer)>;
  std::function<void(Done done)> start;
};

using RouteResult = std::variant<HttpResponse, FlvPlayback, ControlUpgrade, DeferredResponse>;

namespace webrtc {
class WebRtcEgress;
}

class Router {
 public:
  // `control` null: no control channel and no admin API (404).
  Router(Hub& hub, Metrics& metrics, HlsEndpoint& hls, ControlPlane* control = nullptr)
      : hub_(hub), metrics_(metrics), hls_(hls), control_(control) {}
  RouteResult route(const HttpRequest& request);
  // Before serving: /whep/ answers 503 until WebRTC egress is set.
  void set_whep(webrtc::WebRtcEgress* whep) { whep_ = whep; }
  // Clicks and impressions counted by POST /api/v1/streams/{id}/events (HTTP thread).
  const ViewerEvents& viewer_events() const { return events_; }

 private:
  HttpResponse streams_json() const;
  RouteResult control_upgrade(const HttpRequest& request, const std::string& id);
  RouteResult admin(const HttpRequest& request);
  // /api/v1/streams/{id}/{overlays,events,assets[/{asset}]} (stream_api.cpp); nullopt:
  // not one of these paths.
  std::optional<RouteResult> stream_api(const HttpRequest& request);
  // POST of an image: decoded and stored off the HTTP thread, 201 with its description.
  DeferredResponse upload_asset(std::string bytes);
  // /watch/{id}, /console/{id}, /web/{file} (web_routes.cpp); nullopt: not a page path.
  std::optional<HttpResponse> web(const HttpRequest& request);

  Hub& hub_;
  Metrics& metrics_;
  HlsEndpoint& hls_;
  ControlPlane* control_;
  webrtc::WebRtcEgress* whep_ = nullptr;
  ViewerEvents events_;
};

}  // namespace anchorcast
