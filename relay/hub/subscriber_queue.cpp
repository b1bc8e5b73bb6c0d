#include "relay/hub/subscriber_queue.hpp"

#include <algorithm>

namespace anchorcast {

namespace {
constexpr size_t kInitialSlots = 16;
// Pops in a row that found the ring at most 1/8 full before it halves.
constexpr int kQuietPopsBeforeShrink = 32;
}

SubscriberQueue::SubscriberQueue(size_t capacity, std::function<void()> notify)
    : capacity_(std::max<size_t>(capacity, 4)), notify_(std::move(notify)) {
  ring_.resize(std::min(capacity_, kInitialSlots));
}

void SubscriberQueue::grow() {
  std::vector<MediaEvent> bigger(std::min(capacity_, ring_.size() * 2));
  for (size_t i = 0; i < size_; ++i) bigger[i] = std::move(ring_[(head_ + i) % ring_.size()]);
  ring_.swap(bigger);
  head_ = 0;
}

bool SubscriberQueue::accepts(const MediaEvent& event) {
  if (event.type == MediaEvent::Type::tracks) has_video_ = event.tracks && event.tracks->video;
  if (event.type != MediaEvent::Type::packet) return true;
  if (!waiting_for_keyframe_) return true;
  const Packet& p = *event.packet;
  bool resumes = has_video_ ? (p.kind == MediaKind::video && p.keyframe) : true;
  if (resumes) waiting_for_keyframe_ = false;
  return resumes;
}

// The ring is full: drop every queued packet but keep control events (the latest
// track announcement must still reach the viewer) and the newest cue (each cue is the
// whole overlay state, so older ones say nothing more), then wait for a keyframe.
size_t SubscriberQueue::overflow() {
  size_t dropped = 0;
  size_t kept = 0;
  size_t newest_cue = size_;
  for (size_t i = 0; i < size_; ++i)
    if (ring_[(head_ + i) % ring_.size()].type == MediaEvent::Type::cue) newest_cue = i;
  for (size_t i = 0; i < size_; ++i) {
    MediaEvent& e = ring_[(head_ + i) % ring_.size()];
    if (e.type == MediaEvent::Type::cue && i != newest_cue) {
      e = MediaEvent{};
    } else if (e.type == MediaEvent::Type::packet) {
      ++dropped;
      e = MediaEvent{};
    } else {
      MediaEvent keep = std::move(e);
      e = MediaEvent{};
      ring_[(head_ + kept) % ring_.size()] = std::move(keep);
      ++kept;
    }
  }
  size_ = kept;
  waiting_for_keyframe_ = true;
  return dropped;
}

void SubscriberQueue::append(const MediaEvent& event) {
  ring_[(head_ + size_) % ring_.size()] = event;
  ++size_;
}

size_t SubscriberQueue::push(const MediaEvent& event) {
  std::lock_guard lock(mutex_);
  size_t dropped = 0;
  if (size_ == ring_.size() && ring_.size() < capacity_) grow();
  if (size_ == ring_.size()) dropped = overflow();
  bool wake = false;
  // Still full means only control events are queued: the consumer is gone in all but
  // name, and one more event for it changes nothing.
  if (size_ < ring_.size() && accepts(event)) {
    append(event);
    if (!notified_) wake = notified_ = true;
  } else if (event.type == MediaEvent::Type::packet) {
    ++dropped;
  }
  if (dropped) dropped_.fetch_add(dropped, std::memory_order_relaxed);
  // Notify under the lock: the Stream removes a queue under its own lock before the
  // consumer goes away, so no notify runs after unsubscribe returns.
  if (wake && notify_) notify_();
  return dropped;
}

size_t SubscriberQueue::pop_all(std::vector<MediaEvent>& out) {
  std::lock_guard lock(mutex_);
  size_t n = size_;
  for (size_t i = 0; i < n; ++i) {
    MediaEvent& e = ring_[(head_ + i) % ring_.size()];
    out.push_back(std::move(e));
    e = MediaEvent{};
  }
  head_ = (head_ + n) % ring_.size();
  size_ = 0;
  notified_ = false;
  shrink_if_quiet(n);
  return n;
}

// A burst (the GOP replayed at join, a stall) grew the ring; a viewer that keeps up again
// pops a few events at a time, so the ring halves back towards its first size. Empty
// here (everything was just popped): nothing to move.
void SubscriberQueue::shrink_if_quiet(size_t popped) {
  if (ring_.size() <= kInitialSlots || popped > ring_.size() / 8) {
    quiet_pops_ = 0;
    return;
  }
  if (++quiet_pops_ < kQuietPopsBeforeShrink) return;
  quiet_pops_ = 0;
  std::vector<MediaEvent>(ring_.size() / 2).swap(ring_);
  head_ = 0;
}

}  // namespace anchorcast
