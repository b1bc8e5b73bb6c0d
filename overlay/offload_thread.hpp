// One thread that runs, in order, the control plane's work the HTTP thread must not wait
// for: full image decodes (a 1 MiB PNG takes milliseconds) and admin operations that
// block until the writer thread commits them. Neither the HTTP thread nor the writer.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace anchorcast {

class OffloadThread {
 public:
  OffloadThread() = default;
  ~OffloadThread() { stop(); }
  OffloadThread(const OffloadThread&) = delete;
  OffloadThread& operator=(const OffloadThread&) = delete;

  // Any thread. Starts the thread on first use; after stop() the task runs at once on
  // the caller's thread (shutdown: nothing may be left unanswered).
  void post(std::function<void()> task);
  // Runs every queued task, then joins.
  void stop();

 private:
  void run();

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace anchorcast
