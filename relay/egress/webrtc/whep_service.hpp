// WHEP signalling (RFC 9725), Beast-free: an SDP offer for a stream becomes a session
// on the WebRtcServer and an SDP answer; a session id ends it. HTTP framing (paths,
// CORS, content types) is http/whep_endpoint's.
#pragma once

#include <string>
#include <string_view>
#include <variant>

#include "anchorcast/egress/webrtc_egress.hpp"
#include "anchorcast/hub/hub.hpp"
#include "relay/egress/webrtc/feed/rtp_feed_registry.hpp"
#include "relay/egress/webrtc/webrtc_server.hpp"

namespace anchorcast::webrtc {

class WhepService {
 public:
  // `public_ip` is the host candidate the answer gives (webrtc.public_ip); the port is
  // the WebRtcServer's.
  // `metrics`: where the feeds count their transcodes (null in unit tests).
  WhepService(Hub& hub, WebRtcServer& server, std::string public_ip, Metrics* metrics = nullptr);

  // Any thread. 404 unknown / not live, 400 bad SDP (naming what is wrong).
  std::variant<WhepAnswer, WhepRefusal> offer(std::string_view stream_id, Rendition rendition,
                                              std::string_view offer_sdp);
  // Any thread. False: no such session of that stream.
  bool end(std::string_view stream_id, std::string_view session_id);
  // Any thread. Per rendition of `stream_id`, how its WebRTC video is delivered.
  std::vector<WebRtcRenditionState> renditions(std::string_view stream_id);

 private:
  Hub& hub_;
  WebRtcServer& server_;
  std::string public_ip_;
  RtpFeedRegistry feeds_;
};

}  // namespace anchorcast::webrtc
