// SRT playback (the access-control form "#!::r=STREAM_ID,m=request") on the data plane:
// a hub subscriber whose packets are muxed back into MPEG-TS and sent to the caller. The
// SRT listener (ingest/srt/srt_server.cpp) admits the caller in its handshake and hands
// the socket here; from then on one data-plane loop owns it (dealt round robin): the
// hub's notify marks the viewer on that loop's ready list, and the loop sends. The
// listener's thread only reports a broken connection (its epoll sees SRT_EPOLL_ERR).
// The hand-off ingest uses: nothing private to egress in this header.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "anchorcast/core/event_loop.hpp"
#include "anchorcast/core/loop_shards.hpp"
#include "anchorcast/core/srt_handles.hpp"
#include "anchorcast/hub/stream.hpp"

namespace anchorcast {

// Every SRT viewer, over the data-plane loops.
class SrtViewers {
 public:
  // Construct before the loops start (it registers their stop tasks, which end the
  // viewers); the loops outlive it.
  explicit SrtViewers(std::vector<EventLoop*> loops);
  ~SrtViewers();  // close_all()
  SrtViewers(const SrtViewers&) = delete;
  SrtViewers& operator=(const SrtViewers&) = delete;

  // Any thread. `socket` was admitted to play `stream`; it sends without blocking and is
  // in `epoll` (for SRT_EPOLL_ERR), from which its viewer removes it when it ends. It is
  // closed if no loop can take it (none given, or they stopped).
  void start(SrtSocket socket, std::shared_ptr<Stream> stream, std::string peer, int epoll);
  // Any thread: the connection broke; its viewer ends on its loop. Unknown sockets (a
  // viewer that already ended) are ignored.
  void broken(SRTSOCKET socket, std::string reason);
  // Any thread but a loop's: ends every viewer ("server stopping") and waits until each
  // loop has done it (at once for a loop that has stopped).
  void close_all();
  // Live viewers on each loop (any thread).
  std::vector<size_t> viewers_per_loop() const;

  struct Loop;

 private:
  SrtLibrary library_;  // the sockets outlive the listener's own hold on libsrt
  // Shared with the loops' stop tasks, which may run after this is gone (they then find
  // no viewer: the destructor ended them).
  LoopShards<Loop> loops_;
  std::mutex where_mutex_;
  std::unordered_map<SRTSOCKET, size_t> where_;  // index in loops_; guarded by where_mutex_
};

}  // namespace anchorcast
