// How other threads tell a loop that some of its objects have work, without a task per
// object: many marks, one wake, and the loop's thread runs each marked target in one
// pass. The hub's notify marks every viewer with new data, so a packet for 1,000 viewers
// on one loop is one wake, not 1,000 posted closures (no allocation per mark once the
// list has grown).
#pragma once

#include <functional>
#include <mutex>
#include <vector>

namespace anchorcast {

// An object living on a loop's thread that a ReadyList can run.
class ReadyTarget {
 public:
  virtual void on_ready() = 0;

 protected:
  ~ReadyTarget() = default;

 private:
  friend class ReadyList;
  bool marked_ = false;  // guarded by the list's mutex: on the list, not yet run
};

class ReadyList {
 public:
  // `wake` (any thread, no lock held) must get drain() called on the owner's thread. It
  // is called once when the list turns non-empty, not once per mark.
  explicit ReadyList(std::function<void()> wake) : wake_(std::move(wake)) {}

  // Any thread. A target marked again before it runs is on the list once.
  void mark(ReadyTarget& target);
  // Owner thread: runs on_ready() of every target marked before the call. Marks made
  // while it runs wake again and run in the next drain, never lost.
  void drain();
  // Owner thread, before `target` is destroyed (also from inside drain(), e.g. by a
  // target that ends): it is not run again, whatever marks are pending. No mark may
  // come after it (unsubscribe first).
  void forget(ReadyTarget& target);

 private:
  std::function<void()> wake_;
  std::mutex mutex_;
  std::vector<ReadyTarget*> marked_;    // guarded by mutex_
  bool wake_pending_ = false;           // guarded by mutex_
  std::vector<ReadyTarget*> draining_;  // owner thread only
};

}  // namespace anchorcast
