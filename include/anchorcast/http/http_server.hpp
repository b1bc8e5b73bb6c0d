// The control plane's HTTP server (Boost.Beast on one Asio thread): operator API,
// metrics, WHEP signalling, pages, the merchant WebSocket, and the first request of each
// HTTP-FLV or HLS connection, whose socket it then hands to the data-plane loops.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "anchorcast/core/config.hpp"
#include "anchorcast/core/event_loop.hpp"
#include "anchorcast/core/metrics.hpp"
#include "anchorcast/core/result.hpp"
#include "anchorcast/hub/hub.hpp"

namespace anchorcast {

class ControlPlane;
class FlvViewers;
namespace webrtc {
class WebRtcEgress;
}

class HttpServer {
 public:
  // `control` (may be null) serves /control/{id} and the admin API.
  HttpServer(Hub& hub, Metrics& metrics, const Config& config, ControlPlane* control = nullptr);
  ~HttpServer();

  // Binds; the error names the address ("http.listen 0.0.0.0:8080: Address already in use").
  Status listen(const ListenAddress& address);
  void start();  // runs the server on its own thread
  // Stops accepting, sends merchants a close frame (1001, waits up to 1 s for them),
  // ends every connection and joins the thread.
  void stop();
  void post(std::function<void()> task);  // runs on the server's thread
  // Before start(): serves /whep/ with it (WebRTC egress; without it /whep/ is 503).
  void set_whep(webrtc::WebRtcEgress* whep);
  // Before start(): hands GET /flv/ sockets to it (without it /flv/ is 503).
  void set_flv(FlvViewers* flv);
  // Before start() and before the loops start: HLS connections are served on them (without
  // it, on the HTTP thread). The loops stop before this server does.
  void set_data_plane(std::vector<EventLoop*> loops);
  // Open HLS connections on each data-plane loop (any thread).
  std::vector<size_t> hls_connections_per_loop() const;
  // Distinct HLS clients that fetched the stream's playlist in the last 15 s. Any thread.
  int hls_viewers(const std::string& stream_id) const;

  struct Impl;  // opaque: keeps Beast out of every includer

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace anchorcast
