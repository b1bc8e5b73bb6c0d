// Golden images: what a viewer sees for each language and sale state. Each PNG in
// tests/golden/ was inspected by eye when it was (re)generated.
#include <gtest/gtest.h>

#include "card_views.hpp"

namespace anchorcast::overlay::render::test {
namespace {

class CardGolden : public ::testing::Test {
 protected:
  CardRenderer renderer{1080};
  RgbaImage jpeg = fixture_image("product.jpg");
  RgbaImage png = fixture_image("product_alpha.png");

  void SetUp() override {
    ASSERT_FALSE(jpeg.empty());
    ASSERT_FALSE(png.empty());
  }
};

TEST_F(CardGolden, ChineseCardWithJpegImage) {
  const auto card = product_card("真丝连衣裙 Silk dress", "¥299", "¥599", "热卖");
  EXPECT_TRUE(matches_golden(renderer.render({.overlay = &card, .image = &jpeg}), "card_zh"));
}

TEST_F(CardGolden, JapaneseCardWithTransparentPng) {
  const auto card = product_card("京都の抹茶スイーツ詰め合わせ ギフト用", "¥3,280", "¥4,500", "人気");
  EXPECT_TRUE(matches_golden(renderer.render({.overlay = &card, .image = &png}), "card_ja"));
}

TEST_F(CardGolden, KoreanCard) {
  const auto card = product_card("한국 화장품 세트 수분 크림 대용량", "₩29,000", "₩45,000", "인기");
  EXPECT_TRUE(matches_golden(renderer.render({.overlay = &card, .image = &jpeg}), "card_ko"));
}

TEST_F(CardGolden, EnglishCard) {
  const auto card = product_card("Organic cotton T-shirt, relaxed fit", "$19.99", "$39.99", "HOT", "en");
  EXPECT_TRUE(matches_golden(renderer.render({.overlay = &card, .image = &jpeg}), "card_en"));
}

TEST_F(CardGolden, LongestTitleEllipsizedToTwoLines) {
  const auto card = product_card(longest_title(), "¥1,299.00", "¥2,599.00", "热卖");
  EXPECT_TRUE(matches_golden(renderer.render({.overlay = &card, .image = &jpeg}), "card_long_title"));
}

TEST_F(CardGolden, LongPriceShrinksAndOriginalPriceThatDoesNotFitIsLeftOut) {
  const auto card = product_card("Gold watch", "¥12,345,678.90", "¥99,999,999.00", "", "en");
  EXPECT_TRUE(matches_golden(renderer.render({.overlay = &card, .image = &jpeg}), "card_long_price"));
}

TEST_F(CardGolden, MissingImageShowsPlaceholder) {
  const auto card = product_card("真丝连衣裙 Silk dress", "¥299", "¥599");
  EXPECT_TRUE(matches_golden(renderer.render({.overlay = &card}), "card_placeholder"));
}

TEST_F(CardGolden, ChineseCardAt720p) {
  CardRenderer small(720);
  const auto card = product_card("真丝连衣裙 Silk dress", "¥299", "¥599", "热卖");
  EXPECT_TRUE(matches_golden(small.render({.overlay = &card, .image = &jpeg}), "card_zh_720p"));
}

TEST_F(CardGolden, SaleActiveChinese) {
  const auto sale = flash_sale("zh", 123);
  EXPECT_TRUE(matches_golden(
      renderer.render({.overlay = &sale, .remaining_s = 754, .stock_at_start = 500, .image = &jpeg}), "sale_zh"));
}

TEST_F(CardGolden, SaleActiveChineseAt720p) {
  CardRenderer small(720);
  const auto sale = flash_sale("zh", 7);
  EXPECT_TRUE(matches_golden(small.render({.overlay = &sale, .remaining_s = 59, .image = &jpeg}), "sale_zh_720p"));
}

TEST_F(CardGolden, SaleActiveEnglishOverAnHour) {
  auto sale = flash_sale("en", 23);
  sale.title = "Flash sale: silk dress";
  sale.badge = "DEAL";
  EXPECT_TRUE(matches_golden(renderer.render({.overlay = &sale, .remaining_s = 3725, .image = &png}), "sale_en"));
}

TEST_F(CardGolden, SaleSoldOut) {
  const auto sale = flash_sale("zh", 0);
  EXPECT_TRUE(matches_golden(
      renderer.render({.overlay = &sale, .sale_state = SaleState::sold_out, .remaining_s = 300, .image = &jpeg}),
      "sale_sold_out"));
}

TEST_F(CardGolden, SaleSoldOutEnglish) {
  const auto sale = flash_sale("en", 0);
  EXPECT_TRUE(matches_golden(
      renderer.render({.overlay = &sale, .sale_state = SaleState::sold_out, .remaining_s = 300, .image = &jpeg}),
      "sale_sold_out_en"));
}

TEST_F(CardGolden, SaleEnded) {
  const auto sale = flash_sale("zh", 17);
  EXPECT_TRUE(matches_golden(
      renderer.render({.overlay = &sale, .sale_state = SaleState::ended, .stock_at_start = 500, .image = &jpeg}),
      "sale_ended"));
}

TEST_F(CardGolden, SaleEndedEnglish) {
  const auto sale = flash_sale("en", 17);
  EXPECT_TRUE(matches_golden(renderer.render({.overlay = &sale, .sale_state = SaleState::ended, .image = &png}),
                             "sale_ended_en"));
}

}  // namespace
}  // namespace anchorcast::overlay::render::test
