#include "anchorcast/core/ready_list.hpp"

#include <algorithm>

namespace anchorcast {

void ReadyList::mark(ReadyTarget& target) {
  bool wake;
  {
    std::lock_guard lock(mutex_);
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
}

}  // namespace anchorcast
