// cover_square: product images fill the card's square slot without bars, whatever
// their aspect ratio.
#include "overlay/render/card_renderer.hpp"

#include <algorithm>
#include <memory>

extern "C" {
#include <libswscale/swscale.h>
}

namespace anchorcast::overlay::render {

namespace {
struct SwsDeleter {
  void operator()(SwsContext* s) const { sws_freeContext(s); }
};
}  // namespace

RgbaImage cover_square(const RgbaImage& image, int side) {
  if (image.empty() || image.height <= 0 || side <= 0) return {};
  if (image.width == side && image.height == side) return image;  // scaled once by the caller
  // The centred square of the source; scaling premultiplied pixels filters colour and
  // alpha together, so edges of transparent areas do not fringe.
  const int crop = std::min(image.width, image.height);
  const int x0 = (image.width - crop) / 2;
  const int y0 = (image.height - crop) / 2;
  std::unique_ptr<SwsContext, SwsDeleter> sws(sws_getContext(crop, crop, AV_PIX_FMT_RGBA, side, side, AV_PIX_FMT_RGBA,
                                                             SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT |
                                                                 SWS_FULL_CHR_H_INP,
                                                             nullptr, nullptr, nullptr));
  if (!sws) return {};
  const int src_stride[4] = {image.width * 4, 0, 0, 0};
  const uint8_t* src[4] = {image.pixels.data() + (static_cast<size_t>(y0) * image.width + x0) * 4, nullptr, nullptr,
                           nullptr};
  RgbaImage out;
  out.width = side;
  out.height = side;
  out.pixels.resize(static_cast<size_t>(side) * side * 4);
  uint8_t* dst[4] = {out.pixels.data(), nullptr, nullptr, nullptr};
  const int dst_stride[4] = {side * 4, 0, 0, 0};
  if (sws_scale(sws.get(), src, src_stride, 0, crop, dst, dst_stride) != side) return {};
  // Bicubic overshoots at sharp edges; premultiplied colour must never exceed alpha.
  for (size_t i = 0; i < out.pixels.size(); i += 4)
    for (size_t c = 0; c < 3; ++c) out.pixels[i + c] = std::min(out.pixels[i + c], out.pixels[i + 3]);
  return out;
}

}  // namespace anchorcast::overlay::render
