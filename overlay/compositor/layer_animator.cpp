#include "overlay/compositor/layer_animator.hpp"

#include <algorithm>

namespace anchorcast::compositor {

using control::OverlayKind;
using overlay::OverlayRecord;
using render::SaleState;

namespace {

int64_t ceil_div_1000(int64_t ms) { return ms >= 0 ? (ms + 999) / 1000 : -((-ms) / 1000); }
int64_t floor_div_1000(int64_t ms) { return ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000); }

// When the record leaves the screen by itself (0: never).
int64_t hide_at_ms(const OverlayRecord& r) {
  if (r.ends_at_ms == 0) return 0;
  return r.overlay.kind == OverlayKind::sale ? r.ends_at_ms + kEndedShowMs : r.ends_at_ms;
}

}  // namespace

int64_t countdown_seconds(int64_t ends_at_ms, int64_t now_ms) {
  // Whole seconds of the wall clock: the digit changes when the clock's second does, the
  // same instant on every viewer's screen and on the merchant's.
  return std::max<int64_t>(0, ceil_div_1000(ends_at_ms) - floor_div_1000(now_ms));
}

void LayerAnimator::set_scene(const ScenePtr& scene, int64_t now_ms) {
  std::vector<Layer> before = layers(now_ms);
  scene_ = scene;
  for (auto& layer : before) {
    const std::string& id = layer.record.overlay.id;
    bool still_listed = scene_ && std::any_of(scene_->overlays.begin(), scene_->overlays.end(),
                                              [&](const OverlayRecord& r) { return r.overlay.id == id; });
    bool already_leaving = std::any_of(leaving_.begin(), leaving_.end(),
                                       [&](const Leaving& l) { return l.last.record.overlay.id == id; });
    if (still_listed || already_leaving) continue;
    entered_at_.erase(id);
    layer.slide_px_1080 = 0;
    leaving_.push_back(Leaving{std::move(layer), now_ms});
  }
  if (!scene_) return;
  for (const auto& r : scene_->overlays) {
    // An id shown again while its old card is still fading out replaces it at once.
    std::erase_if(leaving_, [&](const Leaving& l) { return l.last.record.overlay.id == r.overlay.id; });
    entered_at_.emplace(r.overlay.id, now_ms);
    if (r.overlay.kind == OverlayKind::sale) {
      auto& peak = peak_stock_[r.overlay.id];
      peak = std::max(peak, r.overlay.stock);
    }
  }
  std::erase_if(entered_at_, [&](const auto& e) {
    return std::none_of(scene_->overlays.begin(), scene_->overlays.end(),
                        [&](const OverlayRecord& r) { return r.overlay.id == e.first; });
  });
  std::erase_if(peak_stock_, [&](const auto& e) { return !entered_at_.count(e.first); });
}

Layer LayerAnimator::settle(const OverlayRecord& r, int64_t now_ms) const {
  Layer layer;
  layer.record = r;
  if (r.overlay.kind == OverlayKind::sale) {
    bool over = r.ended || (r.ends_at_ms != 0 && now_ms >= r.ends_at_ms);
    layer.sale_state = over ? SaleState::ended : r.overlay.stock == 0 ? SaleState::sold_out : SaleState::active;
    layer.remaining_s = r.ends_at_ms == 0 ? 0 : countdown_seconds(r.ends_at_ms, now_ms);
    auto peak = peak_stock_.find(r.overlay.id);
    layer.stock_at_start = peak == peak_stock_.end() ? r.overlay.stock : peak->second;
  }
  return layer;
}

std::vector<Layer> LayerAnimator::layers(int64_t now_ms) {
  std::vector<Layer> out;
  if (scene_) {
    for (const auto& r : scene_->overlays) {
      int64_t hide_at = hide_at_ms(r);
      if (hide_at != 0 && now_ms >= hide_at) continue;
      Layer layer = settle(r, now_ms);
      auto entered = entered_at_.find(r.overlay.id);
      int64_t age = entered == entered_at_.end() ? kAnimationMs : now_ms - entered->second;
      if (age < kAnimationMs) {
        int64_t t = std::max<int64_t>(0, age);
        layer.opacity = static_cast<int>(kEntryOpacity + (256 - kEntryOpacity) * t / kAnimationMs);
        layer.slide_px_1080 = static_cast<int>(kSlidePx1080 * (kAnimationMs - t) / kAnimationMs);
      }
      if (hide_at != 0 && hide_at - now_ms < kAnimationMs)  // leaving by itself: fade out
        layer.opacity = std::min<int>(layer.opacity, static_cast<int>(256 * (hide_at - now_ms) / kAnimationMs));
      out.push_back(std::move(layer));
    }
  }
  std::erase_if(leaving_, [&](const Leaving& l) { return now_ms - l.since_ms >= kAnimationMs; });
  for (const auto& l : leaving_) {
    Layer layer = l.last;
    int64_t t = std::max<int64_t>(0, now_ms - l.since_ms);
    layer.opacity = static_cast<int>(l.last.opacity * (kAnimationMs - t) / kAnimationMs);
    out.push_back(std::move(layer));
  }
  return out;
}

}  // namespace anchorcast::compositor
