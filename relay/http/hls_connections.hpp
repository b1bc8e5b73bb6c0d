// HLS players on the data plane. The HTTP thread reads a connection's first request for
// /hls/ and hands the socket here, with that request and any bytes read after it; from
// then on one data-plane loop (dealt round robin) owns the connection: it reads the
// player's next requests itself (a bounded request-head parser, protocol/http1), answers
// them through HlsEndpoint, and writes each response head and the shared playlist or
// segment without copying it. No HLS byte crosses the HTTP thread after the first
// request. A request for anything else (or one with a body) hands the socket back to the
// HTTP thread, unread bytes and all, so a browser's pooled connection keeps working.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "anchorcast/core/event_loop.hpp"
#include "anchorcast/core/loop_shards.hpp"
#include "anchorcast/core/metrics.hpp"
#include "relay/http/http_message.hpp"

namespace anchorcast {

struct HlsConnectionLimits {
  size_t max_head_bytes = 8192;      // a longer request head gets 431, and the connection ends
  uint64_t idle_ms = 30'000;         // no complete request for this long ends it (as on the HTTP thread)
  uint64_t write_stall_ms = 20'000;  // a response the peer takes nothing of for this long ends it
};

class HlsConnections {
 public:
  using Limits = HlsConnectionLimits;
  // The answer to a request for /hls/; called on the loops, so it must be thread-safe.
  using Serve = std::function<HttpResponse(const HttpRequest&)>;
  // Any thread: `fd` is a connected socket whose requests from `buffered` on were not
  // answered; it is the callee's to serve or close.
  using HandBack = std::function<void(int fd, std::string remote, std::string buffered)>;

  // Construct before the loops start (it registers their stop tasks, which close the
  // connections). Each loop keeps its own copy of `serve` and `hand_back`.
  HlsConnections(std::vector<EventLoop*> loops, Metrics& metrics, Serve serve, HandBack hand_back,
                 Limits limits = {});
  ~HlsConnections();
  HlsConnections(const HlsConnections&) = delete;
  HlsConnections& operator=(const HlsConnections&) = delete;

  // Any thread. `fd` is a connected TCP socket whose request `first` was read (and
  // counted) by the HTTP thread; `buffered` are the bytes read after it. The socket is
  // closed if it cannot be served (also once the loops have stopped).
  void start(int fd, HttpRequest first, bool keep_alive, std::string buffered);
  // Open connections on each loop (any thread).
  std::vector<size_t> connections_per_loop() const;

  struct Loop;

 private:
  LoopShards<Loop> loops_;
};

}  // namespace anchorcast
