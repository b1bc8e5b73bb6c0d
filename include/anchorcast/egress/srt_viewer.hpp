// SRT playback (the access-control form "#!::r=STREAM_ID,m=request"): a hub subscriber
// whose packets are muxed back into MPEG-TS and sent to the caller. The SRT listener
// (ingest/srt/srt_server.cpp) admits the caller in its handshake and hands the socket
// here; the viewer then lives on that adapter thread only, which polls pending().
// The hand-off ingest uses: nothing private to egress in this header.
#pragma once

#include <memory>
#include <string>

#include "anchorcast/core/srt_handles.hpp"
#include "anchorcast/hub/stream.hpp"

namespace anchorcast {

class SrtViewer {
 public:
  SrtViewer(SrtSocket socket, Stream& stream, std::string peer);
  ~SrtViewer();  // logs a summary, unsubscribes, closes the socket
  SrtViewer(const SrtViewer&) = delete;
  SrtViewer& operator=(const SrtViewer&) = delete;

  // True when the hub has queued events since the last pump (set from the publisher's
  // thread; the adapter thread polls it).
  bool pending() const;
  // Sends what the hub queued. False when the viewer is over (end_reason() says why).
  bool pump();
  void set_end_reason(std::string reason);
  SRTSOCKET socket() const;

 private:
  struct Impl;  // ViewerPump's sink: the subscription, the TS muxer, the send buffer
  std::unique_ptr<Impl> impl_;
};

}  // namespace anchorcast
