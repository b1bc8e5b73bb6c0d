// SRT ingest (contract "Ingest"): anchors publish MPEG-TS (H.264/HEVC + AAC) over SRT to
// srt://HOST:PORT?streamid=KEY, or with the access-control form "#!::r=KEY,m=publish".
// A wrong key or a stream that already has a live publisher is refused in the SRT
// handshake, with a rejection code the caller sees. Extra: "#!::r=STREAM_ID,m=request"
// plays a live stream back as MPEG-TS (H.264 + AAC). One adapter thread (libsrt has its
// own) demuxes and publishes into the thread-safe hub, and feeds SRT viewers.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "anchorcast/core/config.hpp"
#include "anchorcast/core/result.hpp"

namespace anchorcast {

class Hub;
class Metrics;

class SrtServer {
 public:
  // `hub` and `metrics` must outlive the server.
  SrtServer(Hub& hub, Metrics& metrics);
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
  // Stops accepting, ends every publisher session (viewers stay on their streams) and
  // joins the adapter thread. Idempotent.
  void close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace anchorcast
