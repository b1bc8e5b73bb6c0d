// WHEP over HTTP: /whep/{id} (POST offer, OPTIONS) and /whep/{id}/{session} (DELETE),
// with the CORS headers a player page on another origin needs. Beast-free.
#pragma once

#include "http/http_message.hpp"

namespace anchorcast {

namespace webrtc {
class WhepService;
}

// `path` starts with "/whep/". `whep` null: WebRTC is off (503).
HttpResponse handle_whep(webrtc::WhepService* whep, const HttpRequest& request);

}  // namespace anchorcast
