// HTTP-FLV playback on the data plane. The HTTP server parses GET /flv/{id}.flv and hands
// the connected socket here; from then on one data-plane loop owns it (dealt round
// robin, beside that loop's RTMP connections): it writes the response head itself (no
// length; the body is FLV tags until either side closes), then the stream's events
// through an FlvMuxer, zero-copy, one write in flight. No media byte crosses the HTTP
// thread.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "anchorcast/core/event_loop.hpp"
#include "anchorcast/core/loop_shards.hpp"
#include "anchorcast/core/metrics.hpp"
#include "anchorcast/hub/stream.hpp"

namespace anchorcast {

// The response head: what Beast wrote for this response before FLV left the HTTP
// session (HTTP/1.1, Connection: close, no Content-Length).
std::string_view flv_response_head();

// Every HTTP-FLV viewer, over the data-plane loops.
class FlvViewers {
 public:
  // Construct before the loops start (it registers their stop tasks, which close the
  // viewers); the loops outlive it. Registers anchorcast_egress_bytes_total{protocol="flv"}.
  FlvViewers(std::vector<EventLoop*> loops, Metrics& metrics);
  ~FlvViewers();
  FlvViewers(const FlvViewers&) = delete;
  FlvViewers& operator=(const FlvViewers&) = delete;

  // Any thread. `fd` is a connected TCP socket whose request was read; it is the
  // viewer's from now on, and closed if it cannot be served (also once the loops have
  // stopped). `remote` ("address:port") names the viewer in log lines.
  void start(int fd, std::string remote, std::shared_ptr<Stream> stream);
  // Live viewers on each loop (any thread).
  std::vector<size_t> viewers_per_loop() const;

  struct Loop;

 private:
  LoopShards<Loop> loops_;
};

}  // namespace anchorcast
