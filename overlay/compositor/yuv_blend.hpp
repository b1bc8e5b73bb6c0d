// Burning an overlay into decoded video: a premultiplied RGBA image is converted once
// (per change) into a YuvaSprite, then blended into every 8-bit YUV 4:2:0 frame.
#pragma once

#include <cstdint>
#include <vector>

#include "overlay/compositor/blend_row.hpp"
#include "relay/codec/yuv_color.hpp"

namespace anchorcast::compositor {

using codec::YuvColor;
using codec::YuvMatrix;
using codec::YuvRange;
using codec::yuv_color_of;
using codec::is_yuv420p_8bit;

// An overlay in the frame's own sample grid. Every plane is premultiplied by its own
// alpha (p <= a), which is what makes the per-frame blend one multiply-add per sample.
struct YuvaSprite {
  // Columns [begin, end) of a row that hold any non-zero alpha; the blend touches only
  // those, so a full-frame layer with one card costs about what the card costs.
  struct RowSpan {
    int begin = 0;
    int end = 0;
  };

  int width = 0;   // luma samples
  int height = 0;
  // MPEG-2/H.264 default ("left") siting: chroma sample (i, j) sits on luma column 2i,
  // between rows 2j and 2j+1. The rightmost luma column still reaches the sample at
  // column `width` (when width is even), hence width / 2 + 1 columns.
  int chroma_width = 0;
  int chroma_height = 0;
  std::vector<uint8_t> y, y_alpha;             // width * height
  std::vector<uint8_t> u, v, chroma_alpha;     // chroma_width * chroma_height
  std::vector<RowSpan> y_rows, chroma_rows;
};

// `rgba`: premultiplied R, G, B, A bytes, rows of `stride` bytes (>= width * 4).
// Values with a colour channel above alpha (not valid premultiplied data) are clamped.
YuvaSprite make_sprite(const uint8_t* rgba, int width, int height, int stride, YuvMatrix matrix,
                       YuvRange range);

// A YUV420P 8-bit picture owned elsewhere (an AVFrame's planes).
struct YuvFrameRef {
  uint8_t* data[3] = {};
  int linesize[3] = {};
  int width = 0;
  int height = 0;
};

// out = frame * (1 - alpha * opacity) + premultiplied * opacity, rounded (see
// blend_row.hpp), where opacity is 0..256 (256: as rendered). The sprite's top-left
// luma sample lands at (x, y), which must be even so its chroma grid matches the
// frame's; odd values are rounded down. Parts outside the frame are clipped.
void blend_sprite(const YuvaSprite& sprite, int x, int y, int opacity, YuvFrameRef& frame,
                  BlendKernel kernel = BlendKernel::simd);

}  // namespace anchorcast::compositor
