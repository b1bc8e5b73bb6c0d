// Properties of the renderer that hold for any content: fixed sizes, text that never
// spills, a countdown that never jitters, states that look different, pure output.
#include <gtest/gtest.h>

#include "card_views.hpp"
#include "overlay/render/sale_labels.hpp"
#include "overlay/render/text_layout.hpp"

namespace anchorcast::overlay::render::test {
namespace {

bool inside(const Rect& r, int x, int y) { return x >= r.x && x < r.x + r.width && y >= r.y && y < r.y + r.height; }

// Pixels where a and b differ that lie outside `allowed`.
int differences_outside(const RgbaImage& a, const RgbaImage& b, const Rect& allowed) {
  int outside = 0;
  for (int y = 0; y < a.height; ++y)
    for (int x = 0; x < a.width; ++x) {
      const size_t i = (static_cast<size_t>(y) * a.width + x) * 4;
      if (!std::equal(&a.pixels[i], &a.pixels[i] + 4, &b.pixels[i]) && !inside(allowed, x, y)) ++outside;
    }
  return outside;
}

class CardProperties : public ::testing::TestWithParam<int> {
 protected:
  CardRenderer renderer{GetParam()};
  RgbaImage jpeg = fixture_image("product.jpg");
};

TEST_P(CardProperties, CardSizeIsFixedPerKindAndEven) {
  const auto short_card = product_card("裙", "¥1", "");
  const auto long_card = product_card(longest_title(), "¥1,299,999.00", "¥2,599,999.00", "热卖热卖热卖热卖");
  const RgbaImage a = renderer.render({.overlay = &short_card});
  const RgbaImage b = renderer.render({.overlay = &long_card, .image = &jpeg});
  const CardGeometry g = renderer.geometry(control::OverlayKind::card);
  EXPECT_EQ(a.width, g.width);
  EXPECT_EQ(a.height, g.height);
  EXPECT_EQ(b.width, g.width);
  EXPECT_EQ(b.height, g.height);
  EXPECT_EQ(g.width % 2, 0);
  EXPECT_EQ(g.height % 2, 0);
  EXPECT_NEAR(g.width, 480.0 * GetParam() / 1080, 2);
}

TEST_P(CardProperties, CountdownDigitsOnlyRepaintTheCountdownBox) {
  const auto sale = flash_sale("zh", 42);
  const CardGeometry g = renderer.geometry(control::OverlayKind::sale);
  const RgbaImage at59 = renderer.render({.overlay = &sale, .remaining_s = 59, .image = &jpeg});
  const RgbaImage at11 = renderer.render({.overlay = &sale, .remaining_s = 11, .image = &jpeg});
  const RgbaImage at1 = renderer.render({.overlay = &sale, .remaining_s = 1, .image = &jpeg});
  ASSERT_EQ(at59.width, g.width);
  ASSERT_EQ(at11.width, g.width);
  ASSERT_EQ(at1.height, g.height);
  EXPECT_NE(at59.pixels, at11.pixels);
  EXPECT_EQ(differences_outside(at59, at11, g.countdown), 0);
  EXPECT_EQ(differences_outside(at59, at1, g.countdown), 0);
}

TEST_P(CardProperties, CountdownTextHasTabularFigures) {
  // The advance width, not the box, is what would make the text jitter inside the box.
  TextLayouter text;
  const TextStyle style{.size_px = 30 * GetParam() / 1080, .bold = true, .tabular_figures = true};
  auto width = [&](int64_t s) { return measure(text.lay_out(format_countdown(s), style, 10000).get()).width_px; };
  EXPECT_EQ(width(59), width(11));
  EXPECT_EQ(width(59), width(1));
  EXPECT_EQ(width(59), width(10 * 60 + 40));
  EXPECT_EQ(width(3600 + 59), width(3600 + 11 * 60 + 11));
}

TEST_P(CardProperties, StockChangesOnlyRepaintTheStockArea) {
  const CardGeometry g = renderer.geometry(control::OverlayKind::sale);
  const auto many = flash_sale("zh", 888);
  const auto few = flash_sale("zh", 111);
  const RgbaImage a = renderer.render({.overlay = &many, .remaining_s = 30, .stock_at_start = 1000});
  const RgbaImage b = renderer.render({.overlay = &few, .remaining_s = 30, .stock_at_start = 1000});
  EXPECT_NE(a.pixels, b.pixels);
  EXPECT_EQ(differences_outside(a, b, g.stock), 0);
}

TEST_P(CardProperties, LongestTitleStaysInItsBoxOnTwoLines) {
  const CardGeometry g = renderer.geometry(control::OverlayKind::card);
  const auto short_title = product_card("裙", "¥299", "¥599", "热卖");
  const auto long_title = product_card(longest_title(), "¥299", "¥599", "热卖");
  const RgbaImage a = renderer.render({.overlay = &short_title, .image = &jpeg});
  const RgbaImage b = renderer.render({.overlay = &long_title, .image = &jpeg});
  EXPECT_EQ(differences_outside(a, b, g.title), 0);

  TextLayouter text;
  const auto layout = text.lay_out(longest_title(), {.size_px = 24 * GetParam() / 1080, .max_lines = 2}, g.title.width);
  const TextExtent extent = measure(layout.get());
  EXPECT_EQ(extent.line_count, 2);
  EXPECT_TRUE(extent.ellipsized);
  EXPECT_LE(extent.width_px, g.title.width);
}

TEST_P(CardProperties, NewlinesInTitleDoNotAddLines) {
  TextLayouter text;
  const auto layout = text.lay_out("a\nb\nc\nd", {.size_px = 24, .max_lines = 2}, 400);
  EXPECT_EQ(measure(layout.get()).line_count, 1);
}

TEST_P(CardProperties, SaleStatesLookDifferent) {
  const auto in_stock = flash_sale("zh", 5);
  const auto none_left = flash_sale("zh", 0);
  const RgbaImage active = renderer.render({.overlay = &in_stock, .remaining_s = 30, .image = &jpeg});
  const RgbaImage sold_out =
      renderer.render({.overlay = &none_left, .sale_state = SaleState::sold_out, .remaining_s = 30, .image = &jpeg});
  const RgbaImage ended = renderer.render({.overlay = &in_stock, .sale_state = SaleState::ended, .image = &jpeg});
  EXPECT_NE(active.pixels, sold_out.pixels);
  EXPECT_NE(active.pixels, ended.pixels);
  EXPECT_NE(sold_out.pixels, ended.pixels);
  // Ended greys the whole panel: the corner of the panel (no text there) changes colour.
  const CardGeometry g = renderer.geometry(control::OverlayKind::sale);
  const size_t corner = (static_cast<size_t>(g.height / 2) * g.width + g.width - 4) * 4;
  EXPECT_NE(active.pixels[corner], ended.pixels[corner]);
  EXPECT_EQ(active.pixels[corner], sold_out.pixels[corner]);
}

TEST_P(CardProperties, SameViewSamePixels) {
  const auto sale = flash_sale("en", 77);
  const CardView view{.overlay = &sale, .remaining_s = 65, .image = &jpeg};
  const RgbaImage first = renderer.render(view);
  const RgbaImage again = renderer.render(view);
  CardRenderer other(GetParam());
  EXPECT_EQ(first.pixels, again.pixels);
  EXPECT_EQ(first.pixels, other.render(view).pixels);
}

TEST_P(CardProperties, OutputIsPremultiplied) {
  const auto sale = flash_sale("zh", 77);
  const RgbaImage png = fixture_image("product_alpha.png");
  const RgbaImage image = renderer.render({.overlay = &sale, .remaining_s = 65, .image = &png});
  for (size_t i = 0; i < image.pixels.size(); i += 4) {
    ASSERT_LE(image.pixels[i], image.pixels[i + 3]) << "pixel " << i / 4;
    ASSERT_LE(image.pixels[i + 1], image.pixels[i + 3]) << "pixel " << i / 4;
    ASSERT_LE(image.pixels[i + 2], image.pixels[i + 3]) << "pixel " << i / 4;
  }
  EXPECT_EQ(image.pixels[3], 0) << "the rounded corner is transparent";
}

TEST_P(CardProperties, NoOverlayRendersNothing) { EXPECT_TRUE(renderer.render({}).empty()); }

TEST_P(CardProperties, HugeCountdownSqueezesIntoTheBox) {
  const auto sale = flash_sale("zh", 3);
  const CardGeometry g = renderer.geometry(control::OverlayKind::sale);
  const RgbaImage short_time = renderer.render({.overlay = &sale, .remaining_s = 5});
  const RgbaImage week = renderer.render({.overlay = &sale, .remaining_s = 7 * 24 * 3600});
  EXPECT_EQ(differences_outside(short_time, week, g.countdown), 0);
}

INSTANTIATE_TEST_SUITE_P(VideoHeights, CardProperties, ::testing::Values(720, 1080),
                         [](const auto& info) { return std::to_string(info.param) + "p"; });

}  // namespace
}  // namespace anchorcast::overlay::render::test
