// RTMP on one port: anchors publish (OBS "Server" rtmp://HOST:1935/live, "Stream Key" =
// the stream's publish key) and viewers play rtmp://HOST:1935/live/{stream id}.
// Connections are spread over the data-plane loops round robin as they arrive: one
// listener on the first loop accepts and hands each socket to a loop, where the session
// lives from then on.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "anchorcast/core/config.hpp"
#include "anchorcast/core/result.hpp"

namespace anchorcast {

class EventLoop;
class Hub;
class Metrics;
struct RtmpServerContext;
struct RtmpAcceptor;

class RtmpServer {
 public:
  // `loops` outlive the server; the first one holds the listener.
  RtmpServer(std::vector<EventLoop*> loops, Hub& hub, Metrics& metrics);
  RtmpServer(EventLoop& loop, Hub& hub, Metrics& metrics) : RtmpServer(std::vector<EventLoop*>{&loop}, hub, metrics) {}
  ~RtmpServer();  // closes (via the loops) whatever close() did not
  RtmpServer(const RtmpServer&) = delete;
  RtmpServer& operator=(const RtmpServer&) = delete;

  // Call before the loops start or on the first loop's thread. The error names the port:
  // "rtmp.listen 0.0.0.0:1935: address already in use".
  Status listen(const ListenAddress& addr);
  uint16_t port() const;  // the bound port (port 0 in `addr` picks a free one)
  // The first loop's thread (or before start): closes the listener and every session
  // (another loop's sessions on that loop). Each loop's stop() closes its share too.
  void close();
  // Open connections on each loop (any thread).
  std::vector<size_t> connections_per_loop() const;

 private:
  std::vector<EventLoop*> loops_;
  std::vector<std::shared_ptr<RtmpServerContext>> contexts_;  // one per loop
  std::shared_ptr<RtmpAcceptor> acceptor_;
};

}  // namespace anchorcast
