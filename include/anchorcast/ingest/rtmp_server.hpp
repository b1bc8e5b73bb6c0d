// RTMP on one port: anchors publish (OBS "Server" rtmp://HOST:1935/live, "Stream Key" =
// the stream's publish key) and viewers play rtmp://HOST:1935/live/{stream id}.
// Everything runs on `loop`'s thread.
#pragma once

#include <cstdint>
#include <memory>

#include "anchorcast/core/config.hpp"
#include "anchorcast/core/result.hpp"

namespace anchorcast {

class EventLoop;
class Hub;
class Metrics;
struct RtmpServerContext;

class RtmpServer {
 public:
  RtmpServer(EventLoop& loop, Hub& hub, Metrics& metrics);
  ~RtmpServer();  // closes (via the loop) whatever close() did not
  RtmpServer(const RtmpServer&) = delete;
  RtmpServer& operator=(const RtmpServer&) = delete;

  // Call before loop.start() or on the loop thread. The error names the port:
  // "rtmp.listen 0.0.0.0:1935: address already in use".
  Status listen(const ListenAddress& addr);
  uint16_t port() const;  // the bound port (port 0 in `addr` picks a free one)
  // Loop thread (or before start): closes the listener and every session. loop.stop()
  // does it too.
  void close();

 private:
  EventLoop& loop_;
  std::shared_ptr<RtmpServerContext> ctx_;
};

}  // namespace anchorcast
