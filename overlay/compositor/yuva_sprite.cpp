// make_sprite: premultiplied RGBA -> premultiplied Y'CbCrA 4:2:0 (ITU-R BT.601 / BT.709).
#include <algorithm>
#include <cmath>

#include "overlay/compositor/yuv_blend.hpp"

namespace anchorcast::compositor {
namespace {

// Premultiplied R', G', B', A in 0..255, as doubles so filtered (fractional) chroma
// inputs convert without an extra rounding.
struct Rgba {
  double r = 0, g = 0, b = 0, a = 0;
};

// The Y'CbCr equations (BT.601 §2.5, BT.709 §3) applied to premultiplied values: the
// offsets 16 and 128 are scaled by alpha like everything else.
class Converter {
 public:
  Converter(YuvMatrix matrix, YuvRange range) {
    kr_ = matrix == YuvMatrix::bt709 ? 0.2126 : 0.299;
    kb_ = matrix == YuvMatrix::bt709 ? 0.0722 : 0.114;
    const bool limited = range == YuvRange::limited;
    y_offset_ = limited ? 16 : 0;
    y_scale_ = limited ? 219.0 / 255 : 1.0;
    c_scale_ = limited ? 224.0 / 255 : 1.0;
  }
  double luma(const Rgba& p) const { return y_offset_ * p.a / 255 + y_scale_ * l(p); }
  double cb(const Rgba& p) const { return 128 * p.a / 255 + c_scale_ * (p.b - l(p)) / (2 * (1 - kb_)); }
  double cr(const Rgba& p) const { return 128 * p.a / 255 + c_scale_ * (p.r - l(p)) / (2 * (1 - kr_)); }

 private:
  double l(const Rgba& p) const { return kr_ * p.r + (1 - kr_ - kb_) * p.g + kb_ * p.b; }
  double kr_, kb_, y_offset_, y_scale_, c_scale_;
};

// A premultiplied sample never exceeds its alpha; the blend relies on it to stay in 8 bits.
uint8_t premultiplied(double value, uint8_t alpha) {
  return static_cast<uint8_t>(std::clamp(std::lround(value), 0L, static_cast<long>(alpha)));
}

std::vector<YuvaSprite::RowSpan> row_spans(const std::vector<uint8_t>& alpha, int width, int height) {
  std::vector<YuvaSprite::RowSpan> spans(static_cast<size_t>(height));
  for (int row = 0; row < height; ++row) {
    const uint8_t* a = alpha.data() + static_cast<size_t>(row) * width;
    int begin = 0, end = width;
    while (begin < end && a[begin] == 0) ++begin;
    while (end > begin && a[end - 1] == 0) --end;
    spans[static_cast<size_t>(row)] = {begin, end};
  }
  return spans;
}

}  // namespace

YuvaSprite make_sprite(const uint8_t* rgba, int width, int height, int stride, YuvMatrix matrix,
                       YuvRange range) {
  YuvaSprite sprite;
  if (width <= 0 || height <= 0) return sprite;
  const Converter convert(matrix, range);
  sprite.width = width;
  sprite.height = height;
  sprite.chroma_width = width / 2 + 1;
  sprite.chroma_height = (height + 1) / 2;
  const size_t luma_size = static_cast<size_t>(width) * height;
  sprite.y.resize(luma_size);
  sprite.y_alpha.resize(luma_size);

  auto pixel = [&](int col, int row) -> Rgba {
    if (col < 0 || col >= width || row >= height) return {};  // outside: transparent
    const uint8_t* p = rgba + static_cast<size_t>(row) * stride + static_cast<size_t>(col) * 4;
    return {double(p[0]), double(p[1]), double(p[2]), double(p[3])};
  };

  for (int row = 0; row < height; ++row)
    for (int col = 0; col < width; ++col) {
      const Rgba p = pixel(col, row);
      const size_t i = static_cast<size_t>(row) * width + col;
      sprite.y_alpha[i] = static_cast<uint8_t>(p.a);
      sprite.y[i] = premultiplied(convert.luma(p), sprite.y_alpha[i]);
    }

  const size_t chroma_size = static_cast<size_t>(sprite.chroma_width) * sprite.chroma_height;
  sprite.u.resize(chroma_size);
  sprite.v.resize(chroma_size);
  sprite.chroma_alpha.resize(chroma_size);
  for (int j = 0; j < sprite.chroma_height; ++j)
    for (int i = 0; i < sprite.chroma_width; ++i) {
      // Left siting: [1 2 1]/4 across columns 2i-1..2i+1, [1 1]/2 across rows 2j, 2j+1.
      Rgba sum;
      for (int dy = 0; dy < 2; ++dy)
        for (int dx = -1; dx <= 1; ++dx) {
          const Rgba p = pixel(2 * i + dx, 2 * j + dy);
          const double w = dx == 0 ? 2 : 1;
          sum.r += w * p.r;
          sum.g += w * p.g;
          sum.b += w * p.b;
          sum.a += w * p.a;
        }
      const Rgba c{sum.r / 8, sum.g / 8, sum.b / 8, sum.a / 8};
      const size_t k = static_cast<size_t>(j) * sprite.chroma_width + i;
      const auto alpha = static_cast<uint8_t>(std::lround(c.a));
      sprite.chroma_alpha[k] = alpha;
      sprite.u[k] = premultiplied(convert.cb(c), alpha);
      sprite.v[k] = premultiplied(convert.cr(c), alpha);
    }
  sprite.y_rows = row_spans(sprite.y_alpha, width, height);
  sprite.chroma_rows = row_spans(sprite.chroma_alpha, sprite.chroma_width, sprite.chroma_height);
  return sprite;
}

}  // namespace anchorcast::compositor
