#include "overlay/compositor/layer_animator.hpp"

#include <gtest/gtest.h>

namespace anchorcast::compositor {
namespace {

using control::OverlayKind;
using overlay::OverlayRecord;

constexpr int64_t kT0 = 1'700'000'000'000;  // a wall-clock instant (ms)

OverlayRecord card(const std::string& id, int64_t ends_at_ms = 0) {
  OverlayRecord r;
  r.overlay.kind = OverlayKind::card;
  r.overlay.id = id;
  r.overlay.title = "t";
  r.ends_at_ms = ends_at_ms;
  return r;
}

OverlayRecord sale(const std::string& id, int64_t stock, int64_t ends_at_ms) {
  OverlayRecord r = card(id, ends_at_ms);
  r.overlay.kind = OverlayKind::sale;
  r.overlay.stock = stock;
  return r;
}

ScenePtr scene(uint64_t version, std::vector<OverlayRecord> overlays) {
  return std::make_shared<Scene>(Scene{version, std::move(overlays)});
}

TEST(LayerAnimator, ACardIsClearlyVisibleOnItsFirstFrameAndSettlesAfter250Ms) {
  LayerAnimator a;
  a.set_scene(scene(1, {card("c1")}), kT0);
  auto first = a.layers(kT0);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].opacity, kEntryOpacity);
  EXPECT_EQ(first[0].slide_px_1080, kSlidePx1080);
  auto mid = a.layers(kT0 + kAnimationMs / 2);
  EXPECT_GT(mid[0].opacity, kEntryOpacity);
  EXPECT_LT(mid[0].opacity, 256);
  auto settled = a.layers(kT0 + kAnimationMs);
  EXPECT_EQ(settled[0].opacity, 256);
  EXPECT_EQ(settled[0].slide_px_1080, 0);
  EXPECT_EQ(a.version(), 1u);
}

TEST(LayerAnimator, ReplacingACardInPlaceDoesNotAnimateAgain) {
  LayerAnimator a;
  a.set_scene(scene(1, {card("c1")}), kT0);
  auto replaced = card("c1");
  replaced.overlay.title = "new title";
  a.set_scene(scene(2, {replaced}), kT0 + 1000);
  auto layers = a.layers(kT0 + 1000);
  ASSERT_EQ(layers.size(), 1u);
  EXPECT_EQ(layers[0].opacity, 256);
  EXPECT_EQ(layers[0].record.overlay.title, "new title");
}

TEST(LayerAnimator, AHiddenCardFadesOutThenIsForgotten) {
  LayerAnimator a;
  a.set_scene(scene(1, {card("c1"), card("c2")}), kT0);
  a.set_scene(scene(2, {card("c2")}), kT0 + 1000);
  auto at_hide = a.layers(kT0 + 1000);
  ASSERT_EQ(at_hide.size(), 2u);
  EXPECT_EQ(at_hide[1].record.overlay.id, "c1");
  EXPECT_EQ(at_hide[1].opacity, 256);  // the applied frame still shows it, fading starts
  auto fading = a.layers(kT0 + 1000 + kAnimationMs / 2);
  ASSERT_EQ(fading.size(), 2u);
  EXPECT_NEAR(fading[1].opacity, 128, 1);
  auto gone = a.layers(kT0 + 1000 + kAnimationMs);
  ASSERT_EQ(gone.size(), 1u);
  EXPECT_EQ(gone[0].record.overlay.id, "c2");
}

TEST(LayerAnimator, ShowingAFadingIdAgainReplacesItAtOnce) {
  LayerAnimator a;
  a.set_scene(scene(1, {card("c1")}), kT0);
  a.set_scene(scene(2, {}), kT0 + 1000);
  a.set_scene(scene(3, {card("c1")}), kT0 + 1100);
  auto layers = a.layers(kT0 + 1100);
  ASSERT_EQ(layers.size(), 1u);
  EXPECT_EQ(layers[0].opacity, kEntryOpacity);  // enters anew
}

TEST(LayerAnimator, ACardWithADurationFadesOutBeforeItsEnd) {
  LayerAnimator a;
  a.set_scene(scene(1, {card("c1", kT0 + 5000)}), kT0);
  EXPECT_EQ(a.layers(kT0 + 4000)[0].opacity, 256);
  auto closing = a.layers(kT0 + 5000 - kAnimationMs / 2);
  ASSERT_EQ(closing.size(), 1u);
  EXPECT_NEAR(closing[0].opacity, 128, 1);
  EXPECT_TRUE(a.layers(kT0 + 5000).empty());
}

TEST(LayerAnimator, ASaleCountsDownShowsSoldOutThenEndedThenLeaves) {
  LayerAnimator a;
  a.set_scene(scene(1, {sale("s1", 23, kT0 + 60'000)}), kT0);
  auto l = a.layers(kT0 + 500);
  EXPECT_EQ(l[0].sale_state, render::SaleState::active);
  EXPECT_EQ(l[0].remaining_s, 60);
  EXPECT_EQ(l[0].stock_at_start, 23);
  EXPECT_EQ(a.layers(kT0 + 1000)[0].remaining_s, 59);
  EXPECT_EQ(a.layers(kT0 + 59'999)[0].remaining_s, 1);
  a.set_scene(scene(2, {sale("s1", 0, kT0 + 60'000)}), kT0 + 2000);
  l = a.layers(kT0 + 2000);
  EXPECT_EQ(l[0].sale_state, render::SaleState::sold_out);
  EXPECT_EQ(l[0].stock_at_start, 23);  // the bar keeps its 100 %
  l = a.layers(kT0 + 60'000);
  ASSERT_EQ(l.size(), 1u);
  EXPECT_EQ(l[0].sale_state, render::SaleState::ended);
  EXPECT_EQ(l[0].remaining_s, 0);
  EXPECT_EQ(a.layers(kT0 + 60'000 + kEndedShowMs - 1).size(), 1u);
  EXPECT_TRUE(a.layers(kT0 + 60'000 + kEndedShowMs).empty());
}

TEST(LayerAnimator, ListOrderIsDrawOrder) {
  LayerAnimator a;
  a.set_scene(scene(1, {card("a"), card("b"), card("c")}), kT0);
  auto l = a.layers(kT0 + 1000);
  ASSERT_EQ(l.size(), 3u);
  EXPECT_EQ(l[0].record.overlay.id, "a");
  EXPECT_EQ(l[2].record.overlay.id, "c");
}

TEST(Countdown, TicksOnTheWallClockSecondBoundary) {
  int64_t ends = kT0 + 10'000;
  EXPECT_EQ(countdown_seconds(ends, kT0), 10);
  EXPECT_EQ(countdown_seconds(ends, kT0 + 999), 10);
  EXPECT_EQ(countdown_seconds(ends, kT0 + 1000), 9);
  EXPECT_EQ(countdown_seconds(ends, ends - 1), 1);
  EXPECT_EQ(countdown_seconds(ends, ends), 0);
  EXPECT_EQ(countdown_seconds(ends, ends + 5000), 0);
  // An end off the second grid still ticks on whole wall-clock seconds.
  EXPECT_EQ(countdown_seconds(kT0 + 2500, kT0 + 999), 3);
  EXPECT_EQ(countdown_seconds(kT0 + 2500, kT0 + 1000), 2);
}

}  // namespace
}  // namespace anchorcast::compositor
