// Blend cost per 1080p frame (YUV420P, 1920x1080): a 480x220 product card and a
// full-frame sprite, SSE2 kernel and scalar reference, beside a copy floor (memcpy of the
// same planes' bytes: what touching that memory costs at least). Times are per frame.
#include <benchmark/benchmark.h>

#include <cstring>
#include <random>
#include <vector>

#include "overlay/compositor/yuv_blend.hpp"

namespace {

using namespace anchorcast::compositor;

constexpr int kWidth = 1920;
constexpr int kHeight = 1080;

struct Frame {
  std::vector<uint8_t> planes[3];
  int linesize[3] = {kWidth, kWidth / 2, kWidth / 2};
  Frame() {
    std::mt19937 rng(1);
    for (int p = 0; p < 3; ++p) {
      planes[p].resize(static_cast<size_t>(linesize[p]) * (p ? kHeight / 2 : kHeight));
      for (auto& b : planes[p]) b = static_cast<uint8_t>(rng());
    }
  }
  YuvFrameRef ref() {
    YuvFrameRef r;
    for (int p = 0; p < 3; ++p) {
      r.data[p] = planes[p].data();
      r.linesize[p] = linesize[p];
    }
    r.width = kWidth;
    r.height = kHeight;
    return r;
  }
};

// Premultiplied RGBA like the renderer's: an opaque panel with antialiased rounded
// corners (radius 24) and random "content" inside, placed at (x0, y0) in a canvas.
std::vector<uint8_t> card_canvas(int width, int height, int x0, int y0, int card_w, int card_h) {
  std::vector<uint8_t> rgba(static_cast<size_t>(width) * height * 4, 0);
  std::mt19937 rng(2);
  const int r = 24;
  for (int y = 0; y < card_h; ++y)
    for (int x = 0; x < card_w; ++x) {
      const int cx = x < r ? r - x : x >= card_w - r ? x - (card_w - r - 1) : 0;
      const int cy = y < r ? r - y : y >= card_h - r ? y - (card_h - r - 1) : 0;
      const int d2 = cx * cx + cy * cy;
      const int a = d2 <= (r - 1) * (r - 1) ? 255 : d2 <= r * r ? 128 : 0;
      uint8_t* p = &rgba[(static_cast<size_t>(y0 + y) * width + x0 + x) * 4];
      for (int c = 0; c < 3; ++c) p[c] = static_cast<uint8_t>((rng() & 0xFF) * a / 255);
      p[3] = static_cast<uint8_t>(a);
    }
  return rgba;
}

std::vector<uint8_t> random_canvas(int width, int height) {
  std::vector<uint8_t> rgba(static_cast<size_t>(width) * height * 4);
  std::mt19937 rng(3);
  for (size_t i = 0; i < rgba.size(); i += 4) {
    const int a = 1 + static_cast<int>(rng() % 255);  // never transparent: no skipping
    for (int c = 0; c < 3; ++c) rgba[i + c] = static_cast<uint8_t>((rng() & 0xFF) * a / 255);
    rgba[i + 3] = static_cast<uint8_t>(a);
  }
  return rgba;
}

YuvaSprite card_sprite() {
  const auto rgba = card_canvas(480, 220, 0, 0, 480, 220);
  return make_sprite(rgba.data(), 480, 220, 480 * 4, YuvMatrix::bt709, YuvRange::limited);
}

void run_blend(benchmark::State& state, const YuvaSprite& sprite, int x, int y) {
  Frame frame;
  YuvFrameRef ref = frame.ref();
  const auto kernel = state.range(0) ? BlendKernel::simd : BlendKernel::scalar;
  for (auto _ : state) {
    blend_sprite(sprite, x, y, kOpaque, ref, kernel);
    benchmark::ClobberMemory();
  }
  state.SetLabel(kernel == BlendKernel::simd ? "sse2" : "scalar");
}

void BM_BlendCard480x220(benchmark::State& state) {
  run_blend(state, card_sprite(), 1920 - 480 - 48, 1080 - 220 - 48);
}
BENCHMARK(BM_BlendCard480x220)->Arg(1)->Arg(0)->Unit(benchmark::kMicrosecond);

void BM_BlendCard480x220Faded(benchmark::State& state) {
  const YuvaSprite sprite = card_sprite();
  Frame frame;
  YuvFrameRef ref = frame.ref();
  for (auto _ : state) {
    blend_sprite(sprite, 1392, 812, 128, ref);
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_BlendCard480x220Faded)->Unit(benchmark::kMicrosecond);

// Worst case: every sample of the frame has non-zero alpha.
void BM_BlendFullFrameOpaqueSprite(benchmark::State& state) {
  const auto rgba = random_canvas(kWidth, kHeight);
  run_blend(state, make_sprite(rgba.data(), kWidth, kHeight, kWidth * 4, YuvMatrix::bt709, YuvRange::limited), 0, 0);
}
BENCHMARK(BM_BlendFullFrameOpaqueSprite)->Arg(1)->Arg(0)->Unit(benchmark::kMicrosecond);

// A full-frame canvas holding one card: what a renderer that draws the whole layer
// hands over. Transparent runs are skipped.
void BM_BlendFullFrameCanvasWithCard(benchmark::State& state) {
  const auto rgba = card_canvas(kWidth, kHeight, 1392, 812, 480, 220);
  run_blend(state, make_sprite(rgba.data(), kWidth, kHeight, kWidth * 4, YuvMatrix::bt709, YuvRange::limited), 0, 0);
}
BENCHMARK(BM_BlendFullFrameCanvasWithCard)->Arg(1)->Arg(0)->Unit(benchmark::kMicrosecond);

// Copy floor: memcpy of the destination bytes the blend covers (luma + both chroma),
// row by row from a second frame.
void copy_region(benchmark::State& state, int width, int height) {
  Frame from, to;
  for (auto _ : state) {
    for (int p = 0; p < 3; ++p) {
      const int w = p ? width / 2 : width;
      const int h = p ? height / 2 : height;
      for (int row = 0; row < h; ++row)
        std::memcpy(to.planes[p].data() + static_cast<size_t>(row) * to.linesize[p],
                    from.planes[p].data() + static_cast<size_t>(row) * from.linesize[p], w);
    }
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * (int64_t{width} * height * 3 / 2));
}
void BM_CopyFloorCard480x220(benchmark::State& state) { copy_region(state, 480, 220); }
BENCHMARK(BM_CopyFloorCard480x220)->Unit(benchmark::kMicrosecond);
void BM_CopyFloorFullFrame(benchmark::State& state) { copy_region(state, kWidth, kHeight); }
BENCHMARK(BM_CopyFloorFullFrame)->Unit(benchmark::kMicrosecond);

// Once per overlay change (and once per countdown second), not per frame.
void BM_MakeSpriteCard480x220(benchmark::State& state) {
  const auto rgba = card_canvas(480, 220, 0, 0, 480, 220);
  for (auto _ : state)
    benchmark::DoNotOptimize(make_sprite(rgba.data(), 480, 220, 480 * 4, YuvMatrix::bt709, YuvRange::limited));
}
BENCHMARK(BM_MakeSpriteCard480x220)->Unit(benchmark::kMicrosecond);

}  // namespace
