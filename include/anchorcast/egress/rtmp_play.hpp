// The play side of an RTMP connection (mirrors ingest/rtmp/rtmp_publish): a hub
// subscription in, RtmpViewer's messages out, written zero-copy on the connection's
// socket with at most one write in flight (ViewerPump). The session keeps the
// handshake, the chunk stream, the commands (play's onStatus replies included) and the
// socket. Owns the Subscription: destroying this ends the viewer. Loop thread only.
// The hand-off ingest uses: nothing private to egress in this header.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>

#include "anchorcast/core/metrics.hpp"
#include "anchorcast/hub/stream.hpp"

namespace anchorcast {

namespace rtmp {
class ChunkWriter;
}

class RtmpPlay {
 public:
  // What the session does when playing is over. Each may destroy this RtmpPlay.
  struct Hooks {
    // The stream was removed and everything muxed before is written.
    std::function<void()> ended;
    // A write failed; `why` is libuv's message.
    std::function<void(const char* why)> failed;
  };

  // `socket` and `writer` (its chunk size applies to media too) are the session's and
  // outlive this. `message_stream_id` is the NetStream the play command came on.
  RtmpPlay(uv_stream_t* socket, const rtmp::ChunkWriter& writer, uint32_t message_stream_id, Counter& egress_bytes,
           Hooks hooks);
  ~RtmpPlay();  // unsubscribes; a write still in flight completes on its own
  RtmpPlay(const RtmpPlay&) = delete;
  RtmpPlay& operator=(const RtmpPlay&) = delete;

  // Subscribes. `notify` is the subscription's (called from the publisher's thread): it
  // must get pump() called on the loop thread.
  void start(Stream& stream, std::function<void()> notify);
  // Sends what the hub queued, unless a write is in flight.
  void pump();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace anchorcast
