// A descriptor closed when its owner goes, unless released. A socket on its way from one
// thread to another rides in one: when the task carrying it is dropped (its loop has
// stopped), the socket closes instead of leaking.
#pragma once

#include <unistd.h>

#include <utility>

namespace anchorcast {

class OwnedFd {
 public:
  explicit OwnedFd(int fd = -1) : fd_(fd) {}
  ~OwnedFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  OwnedFd(OwnedFd&& other) noexcept : fd_(other.release()) {}
  OwnedFd& operator=(OwnedFd&& other) noexcept {
    if (this != &other) {
      if (fd_ >= 0) ::close(fd_);
      fd_ = other.release();
    }
    return *this;
  }
  OwnedFd(const OwnedFd&) = delete;
  OwnedFd& operator=(const OwnedFd&) = delete;

  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }  // the caller closes it now

 private:
  int fd_;
};

}  // namespace anchorcast
