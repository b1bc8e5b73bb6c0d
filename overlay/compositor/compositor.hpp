// The compositor of one burn-in stream: subscribes to the stream's source rendition,
// decodes its H.264, blends every visible card and sale into each frame, encodes H.264
// again (libx264, zerolatency, no B-frames) and publishes the result, with the source's
// audio passed through, as the stream's `main` rendition. Its own worker thread; when it
// cannot keep up it drops frames (counted and logged) rather than building delay.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "overlay/compositor/card_sprites.hpp"
#include "overlay/compositor/scene.hpp"

namespace anchorcast {
class Counter;
class Histogram;
class Metrics;
class Stream;
}  // namespace anchorcast

namespace anchorcast::compositor {

struct CompositorHooks {
  AssetBytes asset_bytes;
  // A change first reached viewers: the pts (ms, main rendition's output timeline) of the
  // first frame that shows it. Called from the compositor's thread with no lock held.
  std::function<void(uint64_t version, int64_t pts_ms)> applied;
};

class Compositor {
 public:
  Compositor(std::shared_ptr<Stream> source, std::shared_ptr<Stream> main, CompositorHooks hooks, Metrics& metrics);
  ~Compositor();
  Compositor(const Compositor&) = delete;
  Compositor& operator=(const Compositor&) = delete;

  void start(ScenePtr initial);
  void stop();

  // A committed change. `versions` are the changes it carries that merchants wait an
  // `applied` for. While no video is being composited (the anchor is offline) the change
  // applies at once: the return value is the pts to report, and the caller reports it.
  std::optional<int64_t> set_scene(ScenePtr scene, std::vector<uint64_t> versions);

  struct Worker;  // the thread's state (media handles), compositor.cpp

 private:
  void run();

  std::shared_ptr<Stream> source_;
  std::shared_ptr<Stream> main_;
  CompositorHooks hooks_;
  Metrics& metrics_;

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool wakeup_ = false;
  bool active_ = false;             // frames are flowing into main
  ScenePtr pending_scene_;          // newest scene not yet taken by the worker
  struct PendingVersion {
    uint64_t version;
    std::chrono::steady_clock::time_point since;  // when the control plane committed it
  };
  std::deque<PendingVersion> pending_versions_;
  std::thread thread_;
};

}  // namespace anchorcast::compositor
