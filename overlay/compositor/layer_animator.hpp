// Which cards a frame shows, and how far into their entrance or exit animation they are.
// Pure: scenes and wall-clock instants in, layers out. Cards slide and fade in over
// kAnimationMs (already clearly visible on the first frame: a change shows on the next
// frame, not 250 ms later), fade out over kAnimationMs when hidden, cleared or when their
// time is up; an ended sale shows "ended" for kEndedShowMs, then fades out.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "overlay/metadata/scene.hpp"
#include "overlay/render/card_renderer.hpp"

namespace anchorcast::compositor {

namespace render = overlay::render;
using metadata::Scene;
using metadata::ScenePtr;

constexpr int64_t kAnimationMs = 250;
constexpr int64_t kEndedShowMs = 3000;
constexpr int kEntryOpacity = 102;  // of 256: ~40 % on the first frame
constexpr int kSlidePx1080 = 48;    // entrance slide from the nearest side edge, at 1080p

struct Layer {
  overlay::OverlayRecord record;
  render::SaleState sale_state = render::SaleState::active;
  int64_t remaining_s = 0;      // sales: the countdown shown
  int64_t stock_at_start = 0;   // sales: the highest stock seen (the stock bar's 100 %)
  int opacity = 256;            // 0..256
  int slide_px_1080 = 0;        // offset toward the card's side edge, at 1080p scale
};

class LayerAnimator {
 public:
  // A new scene at `now_ms` (wall clock): ids it no longer lists start leaving.
  void set_scene(const ScenePtr& scene, int64_t now_ms);
  // The layers to draw at `now_ms`, bottom first. Forgets layers whose exit is over.
  std::vector<Layer> layers(int64_t now_ms);
  uint64_t version() const { return scene_ ? scene_->version : 0; }

 private:
  Layer settle(const overlay::OverlayRecord& record, int64_t now_ms) const;

  ScenePtr scene_;
  std::map<std::string, int64_t> entered_at_;    // id → when it first appeared
  std::map<std::string, int64_t> peak_stock_;    // sale id → highest stock seen
  struct Leaving {
    Layer last;         // as drawn when it left
    int64_t since_ms;   // when the exit began
  };
  std::vector<Leaving> leaving_;
};

// Seconds a countdown shows at `now_ms`: ticks on the wall clock's second boundary.
int64_t countdown_seconds(int64_t ends_at_ms, int64_t now_ms);

}  // namespace anchorcast::compositor
