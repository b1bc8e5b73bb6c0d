// Viewers spread over several data-plane loops: each subscription marks its viewer on its
// own loop's ready list, and every viewer on every loop gets every packet, in order,
// while the publisher pushes from its own thread.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "anchorcast/core/event_loop.hpp"
#include "anchorcast/hub/hub.hpp"
#include "anchorcast/hub/stream.hpp"

namespace anchorcast {
namespace {

constexpr int kPackets = 3000;

// A viewer that lives on one loop: pops what the hub queued when its loop runs it.
class LoopViewer : public ReadyTarget {
 public:
  explicit LoopViewer(EventLoop& loop) : loop_(loop) {}
  void start(Stream& stream) {
    SubscribeOptions options;
    options.queue_capacity = kPackets * 2;  // never full: this test counts, not skips
    options.notify = [this] { loop_.ready().mark(*this); };
    subscription_ = stream.subscribe(std::move(options));
  }
  void stop() {
    subscription_.reset();
    loop_.ready().forget(*this);
  }
  void on_ready() override {
    ran_on_loop_ = ran_on_loop_ && loop_.in_loop_thread();
    events_.clear();
    subscription_->pop_all(events_);
    for (const auto& e : events_) {
      if (e.type != MediaEvent::Type::packet) continue;
      // The hub may shift the timeline, never reorder it: each dts above the last.
      if (received() > 0 && e.packet->dts <= last_dts_) in_order_ = false;
      last_dts_ = e.packet->dts;
      received_.fetch_add(1, std::memory_order_release);
    }
  }
  int received() const { return received_.load(std::memory_order_acquire); }
  bool in_order() const { return in_order_; }
  bool ran_on_loop() const { return ran_on_loop_; }

 private:
  EventLoop& loop_;
  std::unique_ptr<Subscription> subscription_;
  std::vector<MediaEvent> events_;
  int64_t last_dts_ = 0;
  bool in_order_ = true;
  bool ran_on_loop_ = true;
  std::atomic<int> received_{0};
};

TEST(ViewersOnManyLoops, EachViewerOnEachLoopGetsEveryPacketInOrder) {
  Hub hub;
  ASSERT_TRUE(hub.add("demo", "key").ok());
  auto stream = hub.find("demo");
  auto publisher = stream->begin_publish("rtmp");
  ASSERT_TRUE(publisher.ok());
  TrackSet tracks;
  tracks.audio = AudioTrack{Codec::aac, 48000, 2, {0x11, 0x90}};
  (*publisher)->set_tracks(tracks);  // audio only: every packet is a start point

  constexpr int kLoops = 3, kViewersPerLoop = 4;
  std::vector<std::unique_ptr<EventLoop>> loops;
  std::vector<std::unique_ptr<LoopViewer>> viewers;
  for (int l = 0; l < kLoops; ++l) {
    loops.push_back(std::make_unique<EventLoop>());
    loops.back()->start();
  }
  for (int l = 0; l < kLoops; ++l)
    for (int v = 0; v < kViewersPerLoop; ++v) {
      viewers.push_back(std::make_unique<LoopViewer>(*loops[l]));
      auto* viewer = viewers.back().get();
      loops[l]->post([viewer, &stream] { viewer->start(*stream); });
    }
  // Every viewer subscribed before the first packet, so none misses one.
  std::atomic<int> subscribed{0};
  for (auto& loop : loops) loop->post([&] { subscribed.fetch_add(1); });
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (subscribed.load() < kLoops && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  ASSERT_EQ(subscribed.load(), kLoops);

  std::thread pushing([&] {
    for (int i = 0; i < kPackets; ++i) {
      Packet p;
      p.kind = MediaKind::audio;
      p.codec = Codec::aac;
      p.keyframe = true;
      p.time_base = kMillis;
      p.dts = p.pts = i;
      p.payload.assign(16, 0x21);
      (*publisher)->push(std::move(p));
    }
  });
  pushing.join();

  deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  auto all_in = [&] {
    for (auto& v : viewers)
      if (v->received() < kPackets) return false;
    return true;
  };
  while (!all_in() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  for (int l = 0; l < kLoops; ++l)
    for (int v = 0; v < kViewersPerLoop; ++v) {
      auto* viewer = viewers[l * kViewersPerLoop + v].get();
      std::atomic<bool> stopped{false};
      loops[l]->post([viewer, &stopped] {
        viewer->stop();
        stopped = true;
      });
      while (!stopped.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  for (auto& loop : loops) loop->stop();
  for (auto& v : viewers) {
    EXPECT_EQ(v->received(), kPackets);
    EXPECT_TRUE(v->in_order());
    EXPECT_TRUE(v->ran_on_loop());
  }
}

}  // namespace
}  // namespace anchorcast
