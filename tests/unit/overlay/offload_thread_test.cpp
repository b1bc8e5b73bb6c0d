// The control plane's offload thread (overlay/offload_thread.cpp).
#include "overlay/offload_thread.hpp"

#include <gtest/gtest.h>

#include <future>
#include <thread>
#include <vector>

namespace anchorcast {
namespace {

TEST(OffloadThread, RunsTasksInOrderOffTheCallersThread) {
  OffloadThread offload;
  std::vector<int> order;  // written by the offload thread only, read after stop()
  std::promise<std::thread::id> ran_on;
  offload.post([&] { ran_on.set_value(std::this_thread::get_id()); });
  for (int i = 0; i < 100; ++i) offload.post([&order, i] { order.push_back(i); });
  EXPECT_NE(ran_on.get_future().get(), std::this_thread::get_id());
  offload.stop();
  ASSERT_EQ(order.size(), 100u) << "stop() runs what was queued";
  for (int i = 0; i < 100; ++i) EXPECT_EQ(order[i], i);
}

TEST(OffloadThread, AfterStopTasksRunOnTheCallersThread) {
  OffloadThread offload;
  offload.stop();
  std::thread::id ran_on;
  offload.post([&] { ran_on = std::this_thread::get_id(); });
  EXPECT_EQ(ran_on, std::this_thread::get_id()) << "at shutdown nothing is left unanswered";
}

}  // namespace
}  // namespace anchorcast
