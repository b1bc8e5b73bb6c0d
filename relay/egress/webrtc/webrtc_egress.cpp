#include "anchorcast/egress/webrtc_egress.hpp"

#include "relay/egress/webrtc/webrtc_server.hpp"
#include "relay/egress/webrtc/whep_service.hpp"

namespace anchorcast::webrtc {

struct WebRtcEgress::Impl {
  Impl(Hub& hub, Metrics& metrics, std::vector<EventLoop*> media_loops)
      : hub(hub), metrics(metrics), server(metrics, std::move(media_loops)) {}
  Hub& hub;
  Metrics& metrics;
  WebRtcServer server;
  std::unique_ptr<WhepService> whep;  // once listening: answers name the bound port
};

WebRtcEgress::WebRtcEgress(Hub& hub, Metrics& metrics, std::vector<EventLoop*> media_loops)
    : impl_(std::make_unique<Impl>(hub, metrics, std::move(media_loops))) {}

WebRtcEgress::~WebRtcEgress() { stop(); }

Status WebRtcEgress::listen(const ListenAddress& address, bool udp_gso, std::string public_ip) {
  if (auto st = impl_->server.listen(address, udp_gso); !st) return st;
  impl_->whep = std::make_unique<WhepService>(impl_->hub, impl_->server, std::move(public_ip), &impl_->metrics);
  return {};
}

void WebRtcEgress::start() { impl_->server.start(); }

void WebRtcEgress::stop() { impl_->server.stop(); }

std::variant<WhepAnswer, WhepRefusal> WebRtcEgress::offer(std::string_view stream_id, Rendition rendition,
                                                          std::string_view offer_sdp) {
  if (!impl_->whep) return WhepRefusal{503, "unavailable", "WebRTC egress is not listening"};
  return impl_->whep->offer(stream_id, rendition, offer_sdp);
}

std::vector<WebRtcRenditionState> WebRtcEgress::renditions(std::string_view stream_id) {
  if (!impl_->whep) return {};
  return impl_->whep->renditions(stream_id);
}

bool WebRtcEgress::end(std::string_view stream_id, std::string_view session_id) {
  return impl_->whep && impl_->whep->end(stream_id, session_id);
}

}  // namespace anchorcast::webrtc
