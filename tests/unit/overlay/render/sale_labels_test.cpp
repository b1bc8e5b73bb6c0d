#include "overlay/render/sale_labels.hpp"

#include <gtest/gtest.h>

namespace anchorcast::overlay::render {
namespace {

TEST(SaleLabels, CountdownIsMinutesAndSecondsBelowAnHour) {
  EXPECT_EQ(format_countdown(0), "00:00");
  EXPECT_EQ(format_countdown(1), "00:01");
  EXPECT_EQ(format_countdown(59), "00:59");
  EXPECT_EQ(format_countdown(754), "12:34");
  EXPECT_EQ(format_countdown(3599), "59:59");
}

TEST(SaleLabels, CountdownShowsHoursFromAnHour) {
  EXPECT_EQ(format_countdown(3600), "1:00:00");
  EXPECT_EQ(format_countdown(3725), "1:02:05");
  EXPECT_EQ(format_countdown(7 * 24 * 3600), "168:00:00");
}

TEST(SaleLabels, NegativeCountdownIsZero) { EXPECT_EQ(format_countdown(-5), "00:00"); }

TEST(SaleLabels, StockTextFollowsLocale) {
  EXPECT_EQ(stock_label("zh", 23), "仅剩 23 件");
  EXPECT_EQ(stock_label("en", 23), "23 left");
  EXPECT_EQ(stock_label("fr", 23), "仅剩 23 件");  // the contract knows zh and en; zh is the default
  EXPECT_EQ(sold_out_label("zh"), "已抢光");
  EXPECT_EQ(sold_out_label("en"), "Sold out");
  EXPECT_EQ(ended_label("zh"), "已结束");
  EXPECT_EQ(ended_label("en"), "Ended");
}

TEST(SaleLabels, StockBarIsTheShareLeftWhenTheStartIsKnown) {
  EXPECT_DOUBLE_EQ(stock_bar_fraction(250, 500), 0.5);
  EXPECT_DOUBLE_EQ(stock_bar_fraction(600, 500), 1.0);  // restocked past the start
  EXPECT_DOUBLE_EQ(stock_bar_fraction(0, 500), 0.0);
}

TEST(SaleLabels, StockBarIsALogScaleWithoutTheStart) {
  EXPECT_DOUBLE_EQ(stock_bar_fraction(1000, 0), 1.0);
  EXPECT_DOUBLE_EQ(stock_bar_fraction(1'000'000, 0), 1.0);
  EXPECT_NEAR(stock_bar_fraction(100, 0), 0.668, 0.001);
  EXPECT_NEAR(stock_bar_fraction(10, 0), 0.347, 0.001);
  EXPECT_GT(stock_bar_fraction(1, 0), 0.0);
  EXPECT_LT(stock_bar_fraction(5, 0), stock_bar_fraction(6, 0));
  EXPECT_EQ(stock_bar_fraction(0, 0), 0.0);
}

}  // namespace
}  // namespace anchorcast::overlay::render
