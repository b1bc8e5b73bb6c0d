// Card rendering cost: what the compositor pays when a view changes (a countdown tick, a
// stock update) and its cache misses. Run: build-render/perf/bench_render
#include <benchmark/benchmark.h>


#include "overlay/render/card_renderer.hpp"

namespace {

using anchorcast::overlay::render::CardRenderer;
using anchorcast::overlay::render::RgbaImage;
namespace control = anchorcast::control;

// A 320x240 test pattern made in code, so the benchmark needs no fixture on disk.
RgbaImage test_pattern() {
  RgbaImage image{320, 240, std::vector<uint8_t>(320 * 240 * 4)};
  for (int y = 0; y < 240; ++y)
    for (int x = 0; x < 320; ++x) {
      uint8_t* p = &image.pixels[(static_cast<size_t>(y) * 320 + x) * 4];
      p[0] = static_cast<uint8_t>(x * 255 / 320);
      p[1] = static_cast<uint8_t>(y * 255 / 240);
      p[2] = 128;
      p[3] = 255;
    }
  return image;
}

control::Overlay sale_overlay() {
  control::Overlay o;
  o.kind = control::OverlayKind::sale;
  o.title = "限时秒杀 Flash sale 真丝连衣裙";
  o.price = "¥9.9";
  o.original_price = "¥99";
  o.badge = "热卖";
  o.stock = 123;
  return o;
}

void BM_RenderSale(benchmark::State& state) {
  CardRenderer renderer(static_cast<int>(state.range(0)));
  const control::Overlay sale = sale_overlay();
  const RgbaImage image = test_pattern();
  int64_t remaining_s = 3599;
  for (auto _ : state) {
    auto out = renderer.render({.overlay = &sale, .remaining_s = remaining_s--, .image = &image});
    benchmark::DoNotOptimize(out.pixels.data());
  }
}
BENCHMARK(BM_RenderSale)->Arg(720)->Arg(1080)->Unit(benchmark::kMicrosecond);

// The compositor's path when it scales each product image once per asset.
void BM_RenderSalePrescaledImage(benchmark::State& state) {
  CardRenderer renderer(static_cast<int>(state.range(0)));
  const control::Overlay sale = sale_overlay();
  const RgbaImage image = anchorcast::overlay::render::cover_square(
      test_pattern(), renderer.geometry(control::OverlayKind::sale).image.width);
  int64_t remaining_s = 3599;
  for (auto _ : state) {
    auto out = renderer.render({.overlay = &sale, .remaining_s = remaining_s--, .image = &image});
    benchmark::DoNotOptimize(out.pixels.data());
  }
}
BENCHMARK(BM_RenderSalePrescaledImage)->Arg(720)->Arg(1080)->Unit(benchmark::kMicrosecond);

void BM_RenderCardNoImage(benchmark::State& state) {
  CardRenderer renderer(static_cast<int>(state.range(0)));
  control::Overlay card = sale_overlay();
  card.kind = control::OverlayKind::card;
  for (auto _ : state) {
    auto out = renderer.render({.overlay = &card});
    benchmark::DoNotOptimize(out.pixels.data());
  }
}
BENCHMARK(BM_RenderCardNoImage)->Arg(720)->Arg(1080)->Unit(benchmark::kMicrosecond);

// The product image's share of a render when it is not prescaled (the renderer keeps
// no cache keyed by pointer: a view's image may change in place).
void BM_CoverSquare(benchmark::State& state) {
  const RgbaImage image = test_pattern();
  for (auto _ : state) {
    auto out = anchorcast::overlay::render::cover_square(image, static_cast<int>(state.range(0)));
    benchmark::DoNotOptimize(out.pixels.data());
  }
}
BENCHMARK(BM_CoverSquare)->Arg(101)->Arg(152)->Unit(benchmark::kMicrosecond);

}  // namespace
