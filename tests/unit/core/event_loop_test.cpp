// EventLoop: ready targets run on the loop thread, each wake running what was marked.
#include "anchorcast/core/event_loop.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

#include "wait_until.hpp"

namespace anchorcast {
namespace {

using Clock = std::chrono::steady_clock;
using test::wait_until;
constexpr std::chrono::seconds kPatience(10);

// Records the newest sequence number it saw each time it runs.
struct Seen : ReadyTarget {
  void on_ready() override {
    seen.store(sequence.load());
    runs.fetch_add(1);
  }
  std::atomic<int> sequence{0};
  std::atomic<int> seen{0};
  std::atomic<int> runs{0};
};

TEST(EventLoop, ReadyTargetsRunOnTheLoopThread) {
  EventLoop loop;
  loop.start();
  std::atomic<bool> on_loop{false};
  struct Where : ReadyTarget {
    void on_ready() override { on_loop->store(loop->in_loop_thread()); }
    EventLoop* loop = nullptr;
    std::atomic<bool>* on_loop = nullptr;
  } where;
  where.loop = &loop;
  where.on_loop = &on_loop;
  loop.ready().mark(where);
  EXPECT_TRUE(wait_until([&] { return on_loop.load(); }, kPatience));
  std::atomic<bool> forgotten{false};
  loop.post([&] {
    loop.ready().forget(where);
    forgotten = true;
  });
  EXPECT_TRUE(wait_until([&] { return forgotten.load(); }, kPatience));
  loop.stop();
}

TEST(EventLoop, EveryWakeRunsTheMarkedTargets) {
  EventLoop loop;
  loop.start();
  Seen target;
  for (int i = 1; i <= 20; ++i) {
    target.sequence.store(i);
    loop.ready().mark(target);
    ASSERT_TRUE(wait_until([&] { return target.seen.load() == i; }, kPatience));
  }
  EXPECT_EQ(target.runs.load(), 20);
  loop.post([&] { loop.ready().forget(target); });
  loop.stop();
}

// data_plane.write_batch_ms: the first mark after a quiet spell runs at once; marks made
// within the interval after a run wait for its end and run together, once; posted tasks
// are not held back.
TEST(EventLoop, AReadyIntervalRunsTheMarksOfAnIntervalTogether) {
  constexpr auto kInterval = std::chrono::milliseconds(400);
  EventLoop loop(kInterval);
  loop.start();
  struct Timed : ReadyTarget {
    void on_ready() override {
      at[std::min(runs.load(), 2)] = Clock::now();
      runs.fetch_add(1);
    }
    std::atomic<int> runs{0};
    Clock::time_point at[3];
  } target;
  loop.ready().mark(target);
  ASSERT_TRUE(wait_until([&] { return target.runs.load() == 1; }, kPatience));
  for (int i = 0; i < 10; ++i) loop.ready().mark(target);
  std::atomic<int> runs_seen_by_task{-1};
  loop.post([&] { runs_seen_by_task = target.runs.load(); });
  ASSERT_TRUE(wait_until([&] { return runs_seen_by_task.load() >= 0; }, kPatience));
  ASSERT_TRUE(wait_until([&] { return target.runs.load() == 2; }, kPatience));
  // The ten marks ran as one, an interval after the first run. Half of it is the bound:
  // the first run's time is taken after libuv read its clock, and a preempted loop
  // thread can be late by any amount (unbatched, the two runs are microseconds apart).
  EXPECT_GE(target.at[1] - target.at[0], kInterval / 2);
  // The task ran when it was posted, not when the interval ended (it could only see the
  // second run if this thread stalled for the whole interval).
  EXPECT_EQ(runs_seen_by_task.load(), 1);
  loop.post([&] { loop.ready().forget(target); });
  loop.stop();
  EXPECT_EQ(target.runs.load(), 2);
}

}  // namespace
}  // namespace anchorcast
