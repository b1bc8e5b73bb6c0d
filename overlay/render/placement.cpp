// place(): the contract's four corners inside a title-safe area.
#include <algorithm>
#include <cmath>

#include "overlay/render/card_renderer.hpp"

namespace anchorcast::overlay::render {

namespace {

// Broadcast title-safe practice (and phone players' rounded corners and control bars)
// keep text about 4 % in from each edge.
constexpr double kSafeMargin = 0.04;

int even_floor(int v) { return v & ~1; }

// The offset along one axis: near edge or far edge, pulled inside when the card is
// bigger than the space between the margins.
int axis_offset(bool far_edge, int card, int video) {
  const int margin = static_cast<int>(std::lround(video * kSafeMargin));
  const int offset = far_edge ? video - margin - card : margin;
  return even_floor(std::clamp(offset, 0, std::max(0, video - card)));
}

}  // namespace

Placement place(control::Position position, int card_width, int card_height, int video_width, int video_height) {
  const bool right = position == control::Position::top_right || position == control::Position::bottom_right;
  const bool bottom = position == control::Position::bottom_left || position == control::Position::bottom_right;
  return {axis_offset(right, card_width, video_width), axis_offset(bottom, card_height, video_height)};
}

}  // namespace anchorcast::overlay::render
