// The play side of an RTMP connection (mirrors ingest/rtmp/rtmp_publish): a hub
// subscription in, RtmpViewer's messages out, written zero-copy on the connection's
// socket with at most one write in flight (ViewerPump). The session keeps the
// handshake, the chunk stream, the commands (play's onStatus replies included) and the
// socket. Owns the Subscription: destroying this ends the viewer. Loop thread only.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>

#include "anchorcast/core/metrics.hpp"
#include "anchorcast/hub/stream.hpp"
#include "egress/rtmp/rtmp_viewer.hpp"
#include "egress/viewer_pump.hpp"
#include "protocol/rtmp/chunk_writer.hpp"

namespace anchorcast {

class RtmpPlay {
 public:
  // What the session does when playing is over. Each may destroy this RtmpPlay.
  struct Hooks {
    // The stream was removed and everything muxed before is written.
    std::function<void()> ended;
    // A write failed; `why` is libuv's message.
    std::function<void(const char* why)> failed;
  };

  // `socket` and `writer` are the session's and outlive this. `message_stream_id` is
  // the NetStream the play command came on.
  RtmpPlay(uv_stream_t* socket, const rtmp::ChunkWriter& writer, uint32_t message_stream_id, Counter& egress_bytes,
           Hooks hooks);
  ~RtmpPlay();  // unsubscribes; a write still in flight completes on its own
  RtmpPlay(const RtmpPlay&) = delete;
  RtmpPlay& operator=(const RtmpPlay&) = delete;

  // Subscribes. `notify` is the subscription's (called from the publisher's thread): it
  // must get pump() called on the loop thread.
  void start(Stream& stream, std::function<void()> notify);
  // Sends what the hub queued, unless a write is in flight.
  void pump() { pump_.pump(); }

 private:
  friend class ViewerPump<RtmpPlay>;
  struct Write;
  static void on_written(uv_write_t* req, int status);

  // ViewerPump's sink.
  bool mux(const MediaEvent& event);
  bool batch_empty() const;
  void write();
  void end() { hooks_.ended(); }

  uv_stream_t* socket_;
  const rtmp::ChunkWriter& writer_;
  Counter& egress_bytes_;
  Hooks hooks_;
  RtmpViewer viewer_;
  std::unique_ptr<Write> write_;  // reused; handed to libuv while in flight
  bool in_flight_ = false;
  ViewerPump<RtmpPlay> pump_{*this};
};

}  // namespace anchorcast
