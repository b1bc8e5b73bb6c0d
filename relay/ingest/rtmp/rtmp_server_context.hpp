// What the RTMP server shares with its sessions on one loop. Shared ownership: a session
// may finish closing after the RtmpServer object is gone (its close callbacks run on the
// loop).
#pragma once

#include <uv.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <unordered_map>

#include "anchorcast/core/event_loop.hpp"
#include "anchorcast/core/metrics.hpp"
#include "anchorcast/egress/rtmp_play.hpp"
#include "anchorcast/hub/hub.hpp"

namespace anchorcast {

class RtmpSession;

struct RtmpServerContext : std::enable_shared_from_this<RtmpServerContext> {
  RtmpServerContext(EventLoop& loop, Hub& hub, Metrics& metrics);
  void close();  // loop thread: every session
  // Loop thread: a session for a socket the acceptor took (closes `fd` if closed).
  void start_session(int fd);
  // Loop thread: drops the context's reference to a session that finished closing.
  void remove(RtmpSession* session);

  EventLoop& loop;
  Hub& hub;
  Counter& ingest_bytes;
  Counter& egress_bytes;
  Counter& protocol_errors;
  Counter& reject_bad_key;
  Counter& reject_already_live;
  Counter& reject_protocol_error;
  RtmpPlayLoop play_loop;  // what this loop's players share
  // Every session of the loop reads into this one buffer: input is parsed as it arrives
  // (libuv calls alloc then read then the callback, one handle at a time), so nothing
  // refers to it after a read, and a viewer does not keep 64 KB of its own.
  std::array<uint8_t, 64 * 1024> read_buffer{};

  bool closed = false;
  uint64_t next_session_id = 1;
  std::unordered_map<RtmpSession*, std::shared_ptr<RtmpSession>> sessions;
  std::atomic<size_t> connections{0};  // sessions.size(), for other threads
};

}  // namespace anchorcast
