// SubscriberQueue's ring: it grows for a burst and halves back once the viewer keeps up
// again, in order throughout.
#include "relay/hub/subscriber_queue.hpp"

#include <gtest/gtest.h>

#include "media_fixtures.hpp"

namespace anchorcast {
namespace {

MediaEvent video(int64_t dts, bool key) { return MediaEvent::of_packet(fixtures::tiny_video(dts, key)); }

std::vector<int64_t> pop_dts(SubscriberQueue& queue) {
  std::vector<MediaEvent> events;
  queue.pop_all(events);
  std::vector<int64_t> out;
  for (const auto& e : events) out.push_back(e.packet->dts);
  return out;
}

TEST(SubscriberQueue, ARingGrownByABurstHalvesBackOnceQuietAndKeepsOrder) {
  SubscriberQueue queue(1024, nullptr);
  EXPECT_EQ(queue.slots(), 16u);
  int64_t dts = 0;
  std::vector<int64_t> burst;
  for (int i = 0; i < 200; ++i) {  // a join's GOP replay
    queue.push(video(dts, i == 0));
    burst.push_back(dts++);
  }
  EXPECT_EQ(queue.slots(), 256u);
  EXPECT_EQ(pop_dts(queue), burst);

  // A viewer that keeps up: two events per pop. Each 32 quiet pops halve the ring.
  std::vector<size_t> sizes;
  for (int round = 0; round < 5 * 32; ++round) {
    queue.push(video(dts, false));
    queue.push(video(dts + 1, false));
    EXPECT_EQ(pop_dts(queue), (std::vector<int64_t>{dts, dts + 1}));
    dts += 2;
    if (sizes.empty() || sizes.back() != queue.slots()) sizes.push_back(queue.slots());
  }
  EXPECT_EQ(sizes, (std::vector<size_t>{256, 128, 64, 32, 16}));

  // Grows again for the next burst, in order.
  std::vector<int64_t> again;
  for (int i = 0; i < 40; ++i) {
    queue.push(video(dts, false));
    again.push_back(dts++);
  }
  EXPECT_EQ(queue.slots(), 64u);
  EXPECT_EQ(pop_dts(queue), again);
  EXPECT_EQ(queue.dropped_packets(), 0u);
}

TEST(SubscriberQueue, ABusyViewerKeepsItsRing) {
  SubscriberQueue queue(1024, nullptr);
  int64_t dts = 0;
  for (int i = 0; i < 60; ++i) queue.push(video(dts++, i == 0));
  pop_dts(queue);
  ASSERT_EQ(queue.slots(), 64u);
  // Twenty events per pop fill more than an eighth of 64 slots: no shrinking.
  for (int round = 0; round < 100; ++round) {
    for (int i = 0; i < 20; ++i) queue.push(video(dts++, false));
    EXPECT_EQ(pop_dts(queue).size(), 20u);
  }
  EXPECT_EQ(queue.slots(), 64u);
}

}  // namespace
}  // namespace anchorcast
