// The one cross-thread hand-off between a publisher and a subscriber: a bounded ring of
// MediaEvents. A consumer that falls behind loses queued packets and resumes at the next
// keyframe; the producer never waits on it.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <vector>

#include "anchorcast/hub/media_event.hpp"

namespace anchorcast {

class SubscriberQueue {
 public:
  SubscriberQueue(size_t capacity, std::function<void()> notify);

  // Producer side. Returns how many packets this push dropped (to count them).
  size_t push(const MediaEvent& event);
  // Consumer side.
  size_t pop_all(std::vector<MediaEvent>& out);
  uint64_t dropped_packets() const { return dropped_.load(std::memory_order_relaxed); }
  // How many events the ring holds room for now (tests).
  size_t slots() {
    std::lock_guard lock(mutex_);
    return ring_.size();
  }

 private:
  bool accepts(const MediaEvent& event);
  size_t overflow();
  void grow();
  void append(const MediaEvent& event);
  void shrink_if_quiet(size_t popped);

  std::mutex mutex_;
  // Starts small, doubles up to capacity_ and halves back once quiet: a viewer that
  // keeps up (most of them) never holds more than a few events, and thousands of
  // viewers should not each reserve the worst case (measured: 40 KB per viewer when
  // allocated up front) nor keep the size of their join's GOP replay.
  std::vector<MediaEvent> ring_;
  size_t capacity_;
  size_t head_ = 0;
  size_t size_ = 0;
  int quiet_pops_ = 0;
  bool notified_ = false;
  bool waiting_for_keyframe_ = false;
  bool has_video_ = true;
  std::function<void()> notify_;
  std::atomic<uint64_t> dropped_{0};
};

}  // namespace anchorcast
