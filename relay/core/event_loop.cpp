#include "anchorcast/core/event_loop.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace anchorcast {

EventLoop::EventLoop(std::chrono::milliseconds ready_interval)
    : ready_interval_ms_(static_cast<uint64_t>(std::max<int64_t>(0, ready_interval.count()))) {
  if (int rc = uv_loop_init(&loop_); rc != 0)
    throw std::runtime_error(std::string("uv_loop_init: ") + uv_strerror(rc));
  uv_async_init(&loop_, &async_, &EventLoop::on_async);
  async_.data = this;
  uv_timer_init(&loop_, &ready_timer_);
  ready_timer_.data = this;
}

EventLoop::~EventLoop() {
  stop();
  uv_loop_close(&loop_);
}

void EventLoop::start() {
  thread_ = std::thread([this] {
    uv_run(&loop_, UV_RUN_DEFAULT);
    stop_tasks_.clear();  // only now: see shut_down()
  });
  started_.store(true, std::memory_order_release);
}

void EventLoop::post(std::function<void()> task) {
  std::lock_guard lock(mutex_);
  if (closed_) return;  // the loop is gone: whatever this was for is gone with it
  pending_.push_back(std::move(task));
  uv_async_send(&async_);  // coalesces: many posts, one wake-up
}

void EventLoop::wake() {
  std::lock_guard lock(mutex_);
  if (!closed_) uv_async_send(&async_);
}

void EventLoop::on_async(uv_async_t* handle) { static_cast<EventLoop*>(handle->data)->drain(); }

bool EventLoop::run_pending() {
  {
    std::lock_guard lock(mutex_);
    running_.swap(pending_);
  }
  bool ran = !running_.empty();
  for (auto& task : running_) task();
  running_.clear();  // keeps capacity: no allocation once warmed up
  return ran;
}

void EventLoop::on_ready_timer(uv_timer_t* handle) {
  auto* self = static_cast<EventLoop*>(handle->data);
  self->ready_timer_armed_ = false;
  self->run_ready();
}

void EventLoop::run_ready() {
  ready_ran_at_ = uv_now(&loop_);
  ready_.drain();
}

void EventLoop::drain() {
  run_pending();
  if (!ready_timer_armed_) {
    // The first mark after a quiet spell runs at once (always, with no interval); the
    // ones after it wait for the interval to end (until then the list does not wake the
    // loop again).
    const uint64_t since = uv_now(&loop_) - ready_ran_at_;
    if (since >= ready_interval_ms_) {
      run_ready();
    } else {
      ready_timer_armed_ = true;
      uv_timer_start(&ready_timer_, &EventLoop::on_ready_timer, ready_interval_ms_ - since, 0);
    }
  }
  if (stopping_.load()) shut_down();
}

void EventLoop::shut_down() {
  // The tasks stay alive until the loop has run its handles' close callbacks: what they
  // hold (a service's per-loop state) is what those callbacks reach.
  for (auto& task : stop_tasks_) task();
  // Tasks posted while stopping still run, so a session's goodbye is not lost.
  while (run_pending()) {
  }
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
  }
  uv_walk(
      &loop_,
      [](uv_handle_t* h, void*) {
        if (!uv_is_closing(h)) uv_close(h, nullptr);
      },
      nullptr);
}

void EventLoop::stop() {
  if (stopping_.exchange(true)) {
    if (thread_.joinable() && !in_loop_thread()) thread_.join();
    return;
  }
  if (thread_.joinable()) {
    uv_async_send(&async_);
    if (!in_loop_thread()) thread_.join();
  } else {
    // Never started (start-up failed): shut down on this thread.
    shut_down();
    uv_run(&loop_, UV_RUN_DEFAULT);
    stop_tasks_.clear();
  }
}

}  // namespace anchorcast
