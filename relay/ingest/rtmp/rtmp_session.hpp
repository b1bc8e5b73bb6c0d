// One RTMP connection (Adobe RTMP spec 1.0, section 7.2 command flow): handshake, chunk
// stream, NetConnection/NetStream commands, then either publishing into the hub
// (RtmpPublish) or playing from it (egress/rtmp/rtmp_play). Loop thread only.
#pragma once

#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "anchorcast/egress/rtmp_play.hpp"
#include "anchorcast/hub/stream.hpp"
#include "relay/ingest/rtmp/rtmp_publish.hpp"
#include "relay/ingest/rtmp/rtmp_server_context.hpp"
#include "relay/protocol/rtmp/chunk_reader.hpp"
#include "relay/protocol/rtmp/chunk_writer.hpp"
#include "relay/protocol/rtmp/handshake.hpp"
#include "relay/protocol/rtmp/messages.hpp"

namespace anchorcast {

class RtmpSession : public std::enable_shared_from_this<RtmpSession>, private ReadyTarget {
 public:
  explicit RtmpSession(std::shared_ptr<RtmpServerContext> ctx);
  ~RtmpSession();
  RtmpSession(const RtmpSession&) = delete;
  RtmpSession& operator=(const RtmpSession&) = delete;

  // Takes an accepted, non-blocking socket (owns it from now on) and starts reading. On
  // failure the session closes itself.
  void start(int fd);
  // Closes now (pending writes are dropped). Idempotent; the session removes itself
  // from the context once libuv has closed its handles.
  void close();

 private:
  struct ControlWrite;

  static void on_alloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf);
  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void on_timer(uv_timer_t* timer);
  static void on_closed(uv_handle_t* handle);
  static void on_control_written(uv_write_t* req, int status);
  static void on_shutdown(uv_shutdown_t* req, int status);

  void on_bytes(std::span<const uint8_t> bytes);
  void handle(rtmp::Message& m);
  void handle_command(rtmp::Command& c, const rtmp::Message& m);
  void on_connect(const rtmp::Command& c);
  void on_publish(const rtmp::Command& c, uint32_t stream_id);
  void on_play(const rtmp::Command& c, uint32_t stream_id);
  void stop_publishing();
  void stop_playing();
  void drain_play();
  void on_ready() override { drain_play(); }  // the hub queued media for this player

  void queue(const rtmp::Message& m);  // control bytes, sent by flush()
  void flush();
  // Protocol violation: one log line, counters, close.
  void fail(const std::string& reason);
  // Sends what is queued, then closes (a refusal the client must read first).
  void close_after_flush();
  std::string label() const;

  std::shared_ptr<RtmpServerContext> ctx_;
  uint64_t id_;
  uv_tcp_t tcp_{};
  uv_timer_t timer_{};
  uv_shutdown_t shutdown_req_{};
  int open_handles_ = 0;
  bool closing_ = false;
  bool draining_ = false;
  std::string peer_ = "?";

  rtmp::ServerHandshake handshake_;
  rtmp::ChunkReader reader_;
  rtmp::ChunkWriter writer_;
  std::vector<rtmp::Message> messages_;
  std::vector<uint8_t> out_;  // queued control bytes

  uint64_t bytes_in_ = 0;
  uint64_t last_ack_ = 0;
  uint32_t peer_window_ = 0;  // 5.4.4: the peer wants an Acknowledgement every N bytes
  uint64_t started_ms_ = 0;
  uint64_t handshake_done_ms_ = 0;
  uint64_t last_read_ms_ = 0;
  uint64_t draining_since_ms_ = 0;
  bool connected_ = false;  // NetConnection.connect succeeded
  bool was_media_ = false;  // has published or played: errors are no longer "rejects"

  std::unique_ptr<RtmpPublish> publish_;
  std::unique_ptr<RtmpPlay> play_;
  std::string stream_id_;  // the hub stream being published or played, for logs
};

}  // namespace anchorcast
