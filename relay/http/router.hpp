// Maps a request to what answers it: a plain response, or a long-lived media stream
// whose socket the server session hands to the FLV egress (egress/flv/flv_viewer).
// Beast-free: unit-testable.
#pragma once

#include <memory>
#include <optional>
#include <variant>

#include "anchorcast/core/metrics.hpp"
#include "anchorcast/hub/hub.hpp"
#include "anchorcast/overlay/control_plane.hpp"
#include "http/hls_endpoint.hpp"
#include "http/http_message.hpp"
#include "http/viewer_events.hpp"

namespace anchorcast {

struct FlvPlayback {
  std::shared_ptr<Stream> stream;
};

// An authorised WebSocket upgrade on /control/{id}: the server hands the socket to the
// control channel (http/control_socket.hpp).
struct ControlUpgrade {
  std::string stream_id;
};

using RouteResult = std::variant<HttpResponse, FlvPlayback, ControlUpgrade>;

namespace webrtc {
class WhepService;
}

class Router {
 public:
  // `control` null: no control channel and no admin API (404).
  Router(Hub& hub, Metrics& metrics, HlsEndpoint& hls, ControlPlane* control = nullptr)
      : hub_(hub), metrics_(metrics), hls_(hls), control_(control) {}
  RouteResult route(const HttpRequest& request);
  // Before serving: /whep/ answers 503 until WebRTC egress is set.
  void set_whep(webrtc::WhepService* whep) { whep_ = whep; }
  // Clicks and impressions counted by POST /api/v1/streams/{id}/events (HTTP thread).
  const ViewerEvents& viewer_events() const { return events_; }

 private:
  HttpResponse streams_json() const;
  RouteResult control_upgrade(const HttpRequest& request, const std::string& id);
  HttpResponse admin(const HttpRequest& request);
  // /api/v1/streams/{id}/{overlays,events,assets[/{asset}]} (stream_api.cpp); nullopt:
  // not one of these paths.
  std::optional<HttpResponse> stream_api(const HttpRequest& request);
  // /watch/{id}, /console/{id}, /web/{file} (web_routes.cpp); nullopt: not a page path.
  std::optional<HttpResponse> web(const HttpRequest& request);

  Hub& hub_;
  Metrics& metrics_;
  HlsEndpoint& hls_;
  ControlPlane* control_;
  webrtc::WhepService* whep_ = nullptr;
  ViewerEvents events_;
};

}  // namespace anchorcast
