// The compositor of one burn-in stream: subscribes to the stream's source rendition,
// decodes its H.264 or HEVC, blends every visible card and sale into each frame, encodes H.264
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
#include <thread>
#include <vector>

#include "overlay/compositor/card_sprites.hpp"
#include "overlay/metadata/scene_output.hpp"

namespace anchorcast {
class Counter;
class Histogram;
class Metrics;
class Stream;
}  // namespace anchorcast

namespace anchorcast::compositor {

// A scene output (metadata/scene_output.hpp): the change is burned into main's frames.
class Compositor final : public metadata::SceneOutput {
 public:
  // `images`: the bytes of the assets cards show; called on the compositor's thread, so it
  // must answer from memory (the control plane's AssetCache), never wait on SQLite.
  // `applied`: the pts (ms, main rendition's output timeline) of the first frame that
  // shows a change, from the compositor's thread; while no video is being composited (the
  // anchor is offline) main's current position, from set_scene's caller.
  Compositor(std::shared_ptr<Stream> source, std::shared_ptr<Stream> main, AssetBytes images,
             metadata::AppliedCallback applied, Metrics& metrics);
  ~Compositor() override;
  Compositor(const Compositor&) = delete;
  Compositor& operator=(const Compositor&) = delete;

  void start(ScenePtr initial);
  void stop();

  void set_scene(ScenePtr scene, std::vector<uint64_t> versions) override;

  struct Worker;  // the thread's state (media handles), compositor.cpp

 private:
  void run();

  std::shared_ptr<Stream> source_;
  std::shared_ptr<Stream> main_;
  AssetBytes images_;
  metadata::AppliedCallback applied_;
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
