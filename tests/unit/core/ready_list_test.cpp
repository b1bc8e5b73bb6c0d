// ReadyList: marks from many threads, one wake per drain, and no mark ever lost: every
// target that was marked is run after its last mark (the property a viewer relies on to
// see its last packet). The stress test runs under ASan in CI and keeps all shared state
// in atomics or behind the list's own lock, so TSan could run it too.
#include "anchorcast/core/ready_list.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <thread>
#include <vector>

namespace anchorcast {
namespace {

struct Counting : ReadyTarget {
  void on_ready() override { ++runs; }
  int runs = 0;
};

TEST(ReadyList, ManyMarksOneWakeEachTargetRunsInOneDrain) {
  int wakes = 0;
  ReadyList list([&] { ++wakes; });
  Counting a, b;
  list.mark(a);
  list.mark(b);
  list.mark(a);
  EXPECT_EQ(wakes, 1);
  list.drain();
  EXPECT_EQ(a.runs, 1);  // marked twice before it ran: once on the list
  EXPECT_EQ(b.runs, 1);
  list.mark(b);  // after a drain: wakes again
  EXPECT_EQ(wakes, 2);
}

TEST(ReadyList, AForgottenTargetIsNotRun) {
  ReadyList list([] {});
  Counting a, b;
  list.mark(a);
  list.mark(b);
  list.forget(a);
  list.drain();
  EXPECT_EQ(a.runs, 0);
  EXPECT_EQ(b.runs, 1);
}

// A target that ends while the list drains, taking a later target with it (a session
// closing its peer), and one that marks itself again from on_ready.
TEST(ReadyList, TargetsMayForgetAndMarkWhileItDrains) {
  int wakes = 0;
  ReadyList list([&] { ++wakes; });
  Counting later;
  struct Ending : ReadyTarget {
    void on_ready() override {
      ++runs;
      list->forget(*other);
      list->forget(*this);
    }
    ReadyList* list = nullptr;
    ReadyTarget* other = nullptr;
    int runs = 0;
  } ending;
  ending.list = &list;
  ending.other = &later;
  struct Again : ReadyTarget {
    void on_ready() override {
      if (++runs == 1) list->mark(*this);
    }
    ReadyList* list = nullptr;
    int runs = 0;
  } again;
  again.list = &list;
  list.mark(ending);
  list.mark(again);
  list.mark(later);
  list.mark(ending);
  list.drain();
  EXPECT_EQ(ending.runs, 1);
  EXPECT_EQ(later.runs, 0);
  EXPECT_EQ(again.runs, 1);
  EXPECT_EQ(wakes, 2);  // the mark from inside the drain woke the owner again
  list.drain();
  EXPECT_EQ(again.runs, 2);
}

// Producers bump a target's sequence number, then mark it; the owner thread drains on
// every wake and records the sequence it saw. A lost wake leaves some target's seen
// value behind its sequence with nothing pending to run it.
TEST(ReadyList, NeverLosesAWakeUnderConcurrentMarks) {
  constexpr int kTargets = 64, kProducers = 4, kMarksEach = 20000;
  struct Seq : ReadyTarget {
    void on_ready() override { seen.store(sequence.load(std::memory_order_acquire), std::memory_order_relaxed); }
    std::atomic<uint64_t> sequence{0};
    std::atomic<uint64_t> seen{0};
  };
  std::vector<std::unique_ptr<Seq>> targets;
  for (int i = 0; i < kTargets; ++i) targets.push_back(std::make_unique<Seq>());

  std::mutex mutex;
  std::condition_variable woken;
  bool wake_pending = false;
  std::atomic<bool> done{false};
  ReadyList list([&] {
    std::lock_guard lock(mutex);
    wake_pending = true;
    woken.notify_one();
  });
  std::thread owner([&] {
    for (;;) {
      std::unique_lock lock(mutex);
      woken.wait_for(lock, std::chrono::milliseconds(100), [&] { return wake_pending || done.load(); });
      if (!wake_pending && done.load()) return;
      bool run = std::exchange(wake_pending, false);
      lock.unlock();
      if (run) list.drain();
    }
  });
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p)
    producers.emplace_back([&, p] {
      for (int i = 0; i < kMarksEach; ++i) {
        Seq& t = *targets[(i * 7 + p) % kTargets];
        t.sequence.fetch_add(1, std::memory_order_release);
        list.mark(t);
      }
    });
  for (auto& t : producers) t.join();
  // Every wake the producers caused is now pending or done; the owner runs what is left.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  auto all_seen = [&] {
    for (auto& t : targets)
      if (t->seen.load() != t->sequence.load()) return false;
    return true;
  };
  while (!all_seen() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  done = true;
  woken.notify_one();
  owner.join();
  uint64_t total = 0;
  for (auto& t : targets) {
    EXPECT_EQ(t->seen.load(), t->sequence.load());
    total += t->sequence.load();
  }
  EXPECT_EQ(total, uint64_t{kProducers} * kMarksEach);
}

}  // namespace
}  // namespace anchorcast
