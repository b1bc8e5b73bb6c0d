// RAII owners for libsrt's C handles (style.md: no naked close paths): the library's
// global state, an SRTSOCKET, and an SRT epoll id.
#pragma once

#include <srt/srt.h>

#include <utility>

namespace anchorcast {

// srt_startup()/srt_cleanup(): libsrt counts nested calls, so each owner of SRT sockets
// holds one of these and the last one out stops libsrt's threads.
class SrtLibrary {
 public:
  SrtLibrary() { srt_startup(); }
  ~SrtLibrary() { srt_cleanup(); }
  SrtLibrary(const SrtLibrary&) = delete;
  SrtLibrary& operator=(const SrtLibrary&) = delete;
};

class SrtSocket {
 public:
  SrtSocket() = default;
  explicit SrtSocket(SRTSOCKET s) : s_(s) {}
  ~SrtSocket() { reset(); }
  SrtSocket(SrtSocket&& o) noexcept : s_(std::exchange(o.s_, SRT_INVALID_SOCK)) {}
  SrtSocket& operator=(SrtSocket&& o) noexcept {
    if (this != &o) {
      reset();
      s_ = std::exchange(o.s_, SRT_INVALID_SOCK);
    }
    return *this;
  }
  SrtSocket(const SrtSocket&) = delete;
  SrtSocket& operator=(const SrtSocket&) = delete;

  SRTSOCKET get() const { return s_; }
  explicit operator bool() const { return s_ != SRT_INVALID_SOCK; }
  void reset() {
    if (s_ != SRT_INVALID_SOCK) srt_close(s_);
    s_ = SRT_INVALID_SOCK;
  }

 private:
  SRTSOCKET s_ = SRT_INVALID_SOCK;
};

class SrtEpoll {
 public:
  SrtEpoll() = default;
  ~SrtEpoll() { reset(); }
  SrtEpoll(const SrtEpoll&) = delete;
  SrtEpoll& operator=(const SrtEpoll&) = delete;

  bool create() {
    reset();
    eid_ = srt_epoll_create();
    return eid_ >= 0;
  }
  int get() const { return eid_; }
  void reset() {
    if (eid_ >= 0) srt_epoll_release(eid_);
    eid_ = -1;
  }

 private:
  int eid_ = -1;
};

}  // namespace anchorcast
