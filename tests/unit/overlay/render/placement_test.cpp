#include <gtest/gtest.h>

#include "overlay/render/card_renderer.hpp"

namespace anchorcast::overlay::render {
namespace {

using control::Position;
constexpr Position kAll[] = {Position::top_left, Position::top_right, Position::bottom_left, Position::bottom_right};

struct Frame {
  int width, height;
};

TEST(Placement, CardsStayInsideTheFrameOnEvenPixels) {
  for (const Frame frame : {Frame{1280, 720}, Frame{1920, 1080}}) {
    CardRenderer renderer(frame.height);
    for (auto kind : {control::OverlayKind::card, control::OverlayKind::sale}) {
      const CardGeometry g = renderer.geometry(kind);
      for (Position position : kAll) {
        const Placement p = place(position, g.width, g.height, frame.width, frame.height);
        SCOPED_TRACE(std::string(control::position_name(position)) + " in " + std::to_string(frame.width) + "x" +
                     std::to_string(frame.height));
        EXPECT_EQ(p.x % 2, 0);
        EXPECT_EQ(p.y % 2, 0);
        EXPECT_GE(p.x, 0);
        EXPECT_GE(p.y, 0);
        EXPECT_LE(p.x + g.width, frame.width);
        EXPECT_LE(p.y + g.height, frame.height);
      }
    }
  }
}

TEST(Placement, KeepsFourPercentSafeMargins) {
  const Placement top_left = place(Position::top_left, 480, 184, 1920, 1080);
  EXPECT_EQ(top_left.x, 76);  // 4 % of 1920 = 76.8, rounded then made even
  EXPECT_EQ(top_left.y, 42);
  const Placement bottom_right = place(Position::bottom_right, 480, 184, 1920, 1080);
  EXPECT_EQ(bottom_right.x, 1920 - 77 - 480 - 1);  // 1363 made even: 1362
  EXPECT_GE(1080 - (bottom_right.y + 184), 43);
  EXPECT_LE(1080 - (bottom_right.y + 184), 44);
}

TEST(Placement, ACardBiggerThanTheFrameStartsAtTheOrigin) {
  const Placement p = place(Position::bottom_right, 700, 500, 640, 360);
  EXPECT_EQ(p.x, 0);
  EXPECT_EQ(p.y, 0);
}

}  // namespace
}  // namespace anchorcast::overlay::render
