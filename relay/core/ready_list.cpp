#include "anchorcast/core/ready_list.hpp"

#include <algorithm>

namespace anchorcast {

void ReadyList::mark(ReadyTarget& target) {
  bool wake;
  {
    std::lock_guard lock(mutex_);
    if (target.marked_) return;
    target.marked_ = true;
    marked_.push_back(&target);
    wake = !wake_pending_;
    wake_pending_ = true;
  }
  if (wake) wake_();
}

void ReadyList::drain() {
  {
    std::lock_guard lock(mutex_);
    // Cleared before the targets run: a mark from now on wakes the owner again.
    wake_pending_ = false;
    draining_.swap(marked_);
    // A mark from now on (from on_ready too) puts the target back on the list.
    for (ReadyTarget* target : draining_)
      if (target) target->marked_ = false;
  }
  // By index: a target may forget() itself or another one while this runs.
  for (size_t i = 0; i < draining_.size(); ++i)
    if (ReadyTarget* target = draining_[i]) target->on_ready();
  draining_.clear();  // keeps capacity
}

void ReadyList::forget(ReadyTarget& target) {
  std::replace(draining_.begin(), draining_.end(), &target, static_cast<ReadyTarget*>(nullptr));
  std::lock_guard lock(mutex_);
  std::replace(marked_.begin(), marked_.end(), &target, static_cast<ReadyTarget*>(nullptr));
  target.marked_ = false;
}

}  // namespace anchorcast
