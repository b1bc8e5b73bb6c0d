// SRT ingest (contract "Ingest"): anchors publish MPEG-TS (H.264/HEVC + AAC) over SRT to
// srt://HOST:PORT?streamid=KEY, or with the access-control form "#!::r=KEY,m=publish".
// A wrong key or a stream that already has a live publisher is refused in the SRT
// handshake, with a rejection code the caller sees. Extra: "#!::r=STREAM_ID,m=request"
// plays a live stream back as MPEG-TS (H.264 + AAC). One adapter thread (libsrt has its
// own) accepts, demuxes and publishes into the thread-safe hub; SRT viewers are handed to
// the data-plane loops (anchorcast/egress/srt_viewer.hpp), which send their media.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "anchorcast/core/config.hpp"
#include "anchorcast/core/event_loop.hpp"
#include "anchorcast/core/result.hpp"

namespace anchorcast {

class Hub;
class Metrics;

class SrtServer {
 public:
  // `hub`, `metrics` and `viewer_loops` (where SRT viewers are served; none: playback
  // is refused) must outlive the server. Construct before the loops start.
  SrtServer(Hub& hub, Metrics& metrics, std::vector<EventLoop*> viewer_loops);
  ~SrtServer();  // close()
  SrtServer(const SrtServer&) = delete;
  SrtServer& operator=(const SrtServer&) = delete;

  // Binds the UDP port and starts the adapter thread. `latency_ms` is our receive latency
  // (SRTO_RCVLATENCY; the handshake takes the larger of ours and the caller's).
  // `passphrase`: empty for none, else 10..79 characters (AES, callers must match).
  // Errors read "srt.listen HOST:PORT: reason".
  Status listen(const ListenAddress& addr, int latency_ms, std::string passphrase = {});
  // The bound UDP port (the real one when `addr.port` was 0); 0 before listen().
  uint16_t port() const;
  // Stops accepting, ends every publisher session and every SRT viewer (on their loops,
  // waiting for them) and joins the adapter thread. Idempotent.
  void close();
  // Live SRT viewers on each loop (any thread).
  std::vector<size_t> viewers_per_loop() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace anchorcast
