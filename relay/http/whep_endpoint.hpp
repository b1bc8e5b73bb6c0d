// WHEP over HTTP: /whep/{id} (POST offer, OPTIONS) and /whep/{id}/{session} (DELETE),
// with the CORS headers a player page on another origin needs. Beast-free.
#pragma once

#include "relay/http/http_message.hpp"

namespace anchorcast {

namespace webrtc {
class WebRtcEgress;
}

// `path` starts with "/whep/". `whep` null: WebRTC is off (503).
HttpResponse handle_whep(webrtc::WebRtcEgress* whep, const HttpRequest& request);

}  // namespace anchorcast
