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
#include "anchorcast/core/ready_list.hpp"
#include "anchorcast/hub/stream.hpp"

namespace anchorcast {

namespace rtmp {
class ChunkWriter;
}
class FramedMessageCache;

// What the players of one loop share: each packet's chunked form, built by the first
// player that sends it and referenced by the others. One per loop; loop thread only.
class RtmpPlayLoop {
 public:
  RtmpPlayLoop();
  ~RtmpPlayLoop();
  RtmpPlayLoop(const RtmpPlayLoop&) = delete;
  RtmpPlayLoop& operator=(const RtmpPlayLoop&) = delete;
  // How many messages players took from the shared forms, and how many were framed.
  uint64_t shared_messages() const;
  uint64_t framed_messages() const;

 private:
  friend class RtmpPlay;
  std::unique_ptr<FramedMessageCache> cache_;
};

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
  // outlive this, as does `shared` (the loop's). `message_stream_id` is the NetStream
  // the play command came on.
  RtmpPlay(uv_stream_t* socket, const rtmp::ChunkWriter& writer, uint32_t message_stream_id, RtmpPlayLoop& shared,
           Counter& egress_bytes, Hooks hooks);
  ~RtmpPlay();  // unsubscribes; a write still in flight completes on its own
  RtmpPlay(const RtmpPlay&) = delete;
  RtmpPlay& operator=(const RtmpPlay&) = delete;

  // Subscribes. New events mark `target` on the loop's `ready` list (from the
  // publisher's thread); its on_ready() must call pump(). Both outlive this RtmpPlay,
  // which forgets the target when it goes.
  void start(Stream& stream, ReadyList& ready, ReadyTarget& target);
  // Sends what the hub queued, unless a write is in flight.
  void pump();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace anchorcast
