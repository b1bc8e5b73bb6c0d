// WebRTC egress as the rest of the server sees it: the UDP data plane (one I/O thread for
// ICE-lite, DTLS, RTCP and data channels; each viewer's SRTP media sent from one of the
// data-plane loops) and WHEP signalling (RFC 9725) behind one short header. Design and
// threads: relay/egress/webrtc/README.md.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "anchorcast/core/config.hpp"
#include "anchorcast/core/event_loop.hpp"
#include "anchorcast/core/metrics.hpp"
#include "anchorcast/core/result.hpp"
#include "anchorcast/hub/hub.hpp"

namespace anchorcast::webrtc {

struct WhepAnswer {
  std::string session_id;
  std::string sdp;
};

// A refusal a WHEP client can act on: status 400/404, a code, a message.
struct WhepRefusal {
  int status = 400;
  std::string code;
  std::string message;
};

// How one rendition's video reaches WebRTC viewers: "passthrough" (the source's H.264
// as it is), "transcoded" (to H.264 without B-frames: the source has B-frames or is
// HEVC) or "none" (no video); with the transcoder running now or not (it starts with the
// rendition's first WebRTC viewer and stops 30 s after the last).
struct WebRtcRenditionState {
  std::string rendition;  // "main" | "source"
  std::string video;
  bool transcoder_running = false;
};

class WebRtcEgress {
 public:
  // `media_loops`: the data-plane loops viewers' media is sent from (they outlive this).
  WebRtcEgress(Hub& hub, Metrics& metrics, std::vector<EventLoop*> media_loops);
  ~WebRtcEgress();  // stops
  WebRtcEgress(const WebRtcEgress&) = delete;
  WebRtcEgress& operator=(const WebRtcEgress&) = delete;

  // Makes the DTLS certificate and binds `address` (webrtc.listen); answers carry a host
  // candidate for `public_ip` (webrtc.public_ip). `udp_gso`: send equal-sized runs to
  // one viewer as one GSO message where the kernel has it. The error names the key.
  Status listen(const ListenAddress& address, bool udp_gso, std::string public_ip);
  void start();  // the I/O thread
  void stop();   // closes every session (DTLS close_notify) and joins; before the loops stop

  // Any thread. 404 unknown / not live, 400 bad SDP (naming what is wrong).
  std::variant<WhepAnswer, WhepRefusal> offer(std::string_view stream_id, Rendition rendition,
                                              std::string_view offer_sdp);
  // Any thread. False: no such session of that stream.
  bool end(std::string_view stream_id, std::string_view session_id);
  // Any thread. Empty for an unknown stream or before listen().
  std::vector<WebRtcRenditionState> renditions(std::string_view stream_id);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace anchorcast::webrtc
