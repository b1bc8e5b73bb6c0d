// What the RTMP server shares with its sessions. Shared ownership: a session may finish
// closing after the RtmpServer object is gone (its close callbacks run on the loop).
#pragma once

#include <uv.h>

#include <cstdint>
#include <memory>
#include <unordered_map>

#include "anchorcast/core/event_loop.hpp"
#include "anchorcast/core/metrics.hpp"
#include "anchorcast/hub/hub.hpp"

namespace anchorcast {

class RtmpSession;

struct RtmpServerContext : std::enable_shared_from_this<RtmpServerContext> {
  RtmpServerContext(EventLoop& loop, Hub& hub, Metrics& metrics);
  void close();  // loop thread: listener and every session

  EventLoop& loop;
  Hub& hub;
  Counter& ingest_bytes;
  Counter& egress_bytes;
  Counter& protocol_errors;
  Counter& reject_bad_key;
  Counter& reject_already_live;
  Counter& reject_protocol_error;

  uv_tcp_t* listener = nullptr;  // heap: freed by its close callback
  uint16_t port = 0;
  bool closed = false;
  uint64_t next_session_id = 1;
  std::unordered_map<RtmpSession*, std::shared_ptr<RtmpSession>> sessions;
};

}  // namespace anchorcast
