#include "overlay/compositor/yuv_blend.hpp"

#include <algorithm>
#include <cstddef>

namespace anchorcast::compositor {
namespace {

// Blends a sprite plane (sprite_width x sprite_height) whose top-left sample lands at
// (x, y) of a destination plane (plane_width x plane_height), clipped.
void blend_plane(const uint8_t* premul, const uint8_t* alpha,
                 const std::vector<YuvaSprite::RowSpan>& rows, int sprite_width, int sprite_height,
                 int x, int y, uint8_t* plane, int linesize, int plane_width, int plane_height,
                 int opacity, BlendKernel kernel) {
  const int x0 = std::max(x, 0);
  const int x1 = std::min(x + sprite_width, plane_width);
  const int y0 = std::max(y, 0);
  const int y1 = std::min(y + sprite_height, plane_height);
  if (x0 >= x1 || y0 >= y1) return;
  const auto row_kernel = kernel == BlendKernel::simd ? blend_row_simd : blend_row_scalar;
  for (int row = y0; row < y1; ++row) {
    const YuvaSprite::RowSpan span = rows[static_cast<size_t>(row - y)];
    const int begin = std::max(x0, x + span.begin);
    const int end = std::min(x1, x + span.end);
    if (begin >= end) continue;
    const size_t src = static_cast<size_t>(row - y) * sprite_width + (begin - x);
    row_kernel(plane + static_cast<std::ptrdiff_t>(row) * linesize + begin, premul + src, alpha + src,
               end - begin, opacity);
  }
}

}  // namespace

void blend_sprite(const YuvaSprite& sprite, int x, int y, int opacity, YuvFrameRef& frame,
                  BlendKernel kernel) {
  opacity = std::clamp(opacity, 0, kOpaque);
  if (opacity == 0 || sprite.width == 0) return;
  x &= ~1;  // floor to even, negatives included
  y &= ~1;
  blend_plane(sprite.y.data(), sprite.y_alpha.data(), sprite.y_rows, sprite.width, sprite.height, x, y, frame.data[0],
              frame.linesize[0], frame.width, frame.height, opacity, kernel);
  const int chroma_plane_width = (frame.width + 1) / 2;
  const int chroma_plane_height = (frame.height + 1) / 2;
  blend_plane(sprite.u.data(), sprite.chroma_alpha.data(), sprite.chroma_rows, sprite.chroma_width, sprite.chroma_height,
              x / 2, y / 2, frame.data[1], frame.linesize[1], chroma_plane_width, chroma_plane_height,
              opacity, kernel);
  blend_plane(sprite.v.data(), sprite.chroma_alpha.data(), sprite.chroma_rows, sprite.chroma_width, sprite.chroma_height,
              x / 2, y / 2, frame.data[2], frame.linesize[2], chroma_plane_width, chroma_plane_height,
              opacity, kernel);
}

}  // namespace anchorcast::compositor
