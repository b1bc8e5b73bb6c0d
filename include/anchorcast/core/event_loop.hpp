// A libuv loop on its own thread, and the two ways other threads reach it: post() for a
// task, ready() to mark a loop object that has work (one wake for many marks, no
// allocation: the hub's notify to viewers). Handles belong to the loop's thread; no
// other thread touches them.
#pragma once

#include <uv.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "anchorcast/core/ready_list.hpp"

namespace anchorcast {

class EventLoop {
 public:
  // `ready_interval`: the ready list runs at most once per interval (0: on every wake).
  // Marks that come sooner wait for the rest of it, so a viewer's packets of that time
  // leave in one write: fewer, larger writes for at most that much more delay.
  explicit EventLoop(std::chrono::milliseconds ready_interval = {});
  ~EventLoop();  // stops and joins
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  uv_loop_t* uv() { return &loop_; }
  void start();                           // runs the loop on a new thread
  // Any thread: start() was called. Before it, posted tasks wait (they run on the loop,
  // or at stop() if it never starts): waiting for one would hang.
  bool started() const { return started_.load(std::memory_order_acquire); }
  void post(std::function<void()> task);  // any thread; runs on the loop thread, in order
  // Targets marked here run on the loop thread after the posted tasks of the same wake.
  ReadyList& ready() { return ready_; }
  // Any thread: runs on_stop tasks on the loop, closes every handle, joins the thread.
  void stop();
  // Loop thread: registered tasks run first on stop() (servers close their sessions).
  void on_stop(std::function<void()> task) { stop_tasks_.push_back(std::move(task)); }
  bool in_loop_thread() const { return std::this_thread::get_id() == thread_.get_id(); }

 private:
  static void on_async(uv_async_t* handle);
  static void on_ready_timer(uv_timer_t* handle);
  void drain();
  void run_ready();
  bool run_pending();
  void shut_down();
  void wake();

  uv_loop_t loop_{};
  uv_async_t async_{};
  uv_timer_t ready_timer_{};
  const uint64_t ready_interval_ms_;
  uint64_t ready_ran_at_ = 0;  // uv_now of the last ready-list run
  bool ready_timer_armed_ = false;
  std::thread thread_;
  std::mutex mutex_;
  std::vector<std::function<void()>> pending_;
  std::vector<std::function<void()>> running_;
  std::vector<std::function<void()>> stop_tasks_;
  ReadyList ready_{[this] { wake(); }};
  std::atomic<bool> stopping_{false};
  std::atomic<bool> started_{false};
  bool closed_ = false;  // guarded by mutex_
};

}  // namespace anchorcast
