// The compositor runs one CardRenderer per thread: renderers on different threads share
// fontconfig, FreeType faces and cairo's caches underneath, and must still be exact.
#include <thread>

#include <gtest/gtest.h>

#include "card_views.hpp"

namespace anchorcast::overlay::render::test {
namespace {

TEST(CardRendererThreads, OneRendererPerThreadRendersTheSamePixels) {
  const RgbaImage jpeg = fixture_image("product.jpg");
  const auto sale = flash_sale("zh", 321);
  const auto card = product_card("京都の抹茶 한국 화장품 Silk dress 真丝连衣裙", "¥299", "¥599", "热卖");
  const RgbaImage expected_sale = CardRenderer(1080).render({.overlay = &sale, .remaining_s = 42, .image = &jpeg});
  const RgbaImage expected_card = CardRenderer(1080).render({.overlay = &card, .image = &jpeg});

  constexpr int kThreads = 4;
  constexpr int kRounds = 10;
  std::vector<int> mismatches(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      CardRenderer renderer(1080);
      for (int i = 0; i < kRounds; ++i) {
        if (renderer.render({.overlay = &sale, .remaining_s = 42, .image = &jpeg}).pixels != expected_sale.pixels)
          ++mismatches[t];
        if (renderer.render({.overlay = &card, .image = &jpeg}).pixels != expected_card.pixels) ++mismatches[t];
      }
    });
  for (auto& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(mismatches[t], 0) << "thread " << t;
}

}  // namespace
}  // namespace anchorcast::overlay::render::test
