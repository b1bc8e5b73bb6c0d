// EventLoop: ready targets run on the loop thread, each wake running what was marked.
#include "anchorcast/core/event_loop.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace anchorcast {
namespace {

using Clock = std::chrono::steady_clock;

bool wait_until(const std::function<bool()>& cond, std::chrono::seconds timeout = std::chrono::seconds(10)) {
  auto deadline = Clock::now() + timeout;
  while (!cond() && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return cond();
}

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
  EXPECT_TRUE(wait_until([&] { return on_loop.load(); }));
  std::atomic<bool> forgotten{false};
  loop.post([&] {
    loop.ready().forget(where);
    forgotten = true;
  });
  EXPECT_TRUE(wait_until([&] { return forgotten.load(); }));
  loop.stop();
}

TEST(EventLoop, EveryWakeRunsTheMarkedTargets) {
  EventLoop loop;
  loop.start();
  Seen target;
  for (int i = 1; i <= 20; ++i) {
    target.sequence.store(i);
    loop.ready().mark(target);
    ASSERT_TRUE(wait_until([&] { return target.seen.load() == i; }));
  }
  EXPECT_EQ(target.runs.load(), 20);
  loop.post([&] { loop.ready().forget(target); });
  loop.stop();
}

}  // namespace
}  // namespace anchorcast
