#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "overlay/compositor/blend_row.hpp"
#include "overlay/compositor/yuv_blend.hpp"
#include "yuv_frames.hpp"

namespace anchorcast::compositor {
namespace {

using testing::OwnedYuvFrame;
using testing::RgbaCanvas;

TEST(BlendRow, OpaqueBlendIsCorrectlyRoundedForEveryInput) {
  for (int a = 0; a < 256; ++a)
    for (int p = 0; p <= a; ++p) {
      uint8_t dst[256], premul[256], alpha[256];
      for (int d = 0; d < 256; ++d) {
        dst[d] = static_cast<uint8_t>(d);
        premul[d] = static_cast<uint8_t>(p);
        alpha[d] = static_cast<uint8_t>(a);
      }
      blend_row_scalar(dst, premul, alpha, 256, kOpaque);
      for (int d = 0; d < 256; ++d) {
        // round(p + d * (255 - a) / 255); never a tie since 255 is odd.
        const int expected = (2 * (255 * p + d * (255 - a)) + 255) / 510;
        ASSERT_EQ(dst[d], expected) << "d=" << d << " a=" << a << " p=" << p;
      }
    }
}

TEST(BlendRow, FadedBlendIsRoundedToNearest) {
  // Every (d, a, o) with p in {0, a/2, a}: within float error of correct rounding.
  for (int o = 0; o < 256; ++o)
    for (int a = 0; a < 256; ++a)
      for (int p : {0, a / 2, a}) {
        uint8_t dst[256], premul[256], alpha[256];
        for (int d = 0; d < 256; ++d) {
          dst[d] = static_cast<uint8_t>(d);
          premul[d] = static_cast<uint8_t>(p);
          alpha[d] = static_cast<uint8_t>(a);
        }
        blend_row_scalar(dst, premul, alpha, 256, o);
        for (int d = 0; d < 256; ++d) {
          const double exact = d * (1 - a / 255.0 * o / 256.0) + p * o / 256.0;
          ASSERT_LE(std::abs(dst[d] - exact), 0.5001) << "d=" << d << " a=" << a << " p=" << p << " o=" << o;
        }
      }
}

TEST(BlendRow, SimdMatchesScalarOnRandomData) {
  std::mt19937 rng(42);
  std::uniform_int_distribution<int> byte(0, 255);
  std::vector<uint8_t> premul(200), alpha(200), dst(200), expected(200);
  for (int round = 0; round < 20000; ++round) {
    const int n = std::uniform_int_distribution<int>(0, 150)(rng);
    const int offset = std::uniform_int_distribution<int>(0, 15)(rng);  // misaligned too
    const int opacity = round % 3 == 0 ? kOpaque : std::uniform_int_distribution<int>(0, 256)(rng);
    for (size_t i = 0; i < dst.size(); ++i) {
      // Runs of transparent and opaque samples exercise the skip path.
      const int mode = byte(rng) % 4;
      alpha[i] = static_cast<uint8_t>(mode == 0 ? 0 : mode == 1 ? 255 : byte(rng));
      premul[i] = static_cast<uint8_t>(std::uniform_int_distribution<int>(0, alpha[i])(rng));
      dst[i] = expected[i] = static_cast<uint8_t>(byte(rng));
    }
    if (round % 5 == 0) std::fill(alpha.begin(), alpha.begin() + 100, 0);
    if (round % 5 == 0) std::fill(premul.begin(), premul.begin() + 100, 0);
    blend_row_scalar(expected.data() + offset, premul.data() + offset, alpha.data() + offset, n, opacity);
    blend_row_simd(dst.data() + offset, premul.data() + offset, alpha.data() + offset, n, opacity);
    ASSERT_EQ(dst, expected) << "n=" << n << " offset=" << offset << " opacity=" << opacity;
  }
}

TEST(YuvBlend, SimdSpriteBlendMatchesScalarOnRandomImages) {
  std::mt19937 rng(3);
  for (int round = 0; round < 50; ++round) {
    const int w = std::uniform_int_distribution<int>(1, 90)(rng);
    const int h = std::uniform_int_distribution<int>(1, 40)(rng);
    RgbaCanvas canvas(w, h);
    canvas.randomize(rng);
    const auto matrix = round % 2 ? YuvMatrix::bt709 : YuvMatrix::bt601;
    const auto range = round % 4 < 2 ? YuvRange::limited : YuvRange::full;
    const YuvaSprite sprite = canvas.sprite(matrix, range);
    OwnedYuvFrame simd(67, 33, 0, 0, 0);
    simd.randomize(rng);
    OwnedYuvFrame scalar = simd;
    const int x = std::uniform_int_distribution<int>(-50, 60)(rng);
    const int y = std::uniform_int_distribution<int>(-20, 30)(rng);
    const int opacity = round % 3 ? kOpaque : std::uniform_int_distribution<int>(0, 256)(rng);
    YuvFrameRef a = simd.ref(), b = scalar.ref();
    blend_sprite(sprite, x, y, opacity, a, BlendKernel::simd);
    blend_sprite(sprite, x, y, opacity, b, BlendKernel::scalar);
    ASSERT_TRUE(simd.same_picture(scalar)) << "round " << round;
  }
}

TEST(MakeSprite, OpaqueWhiteIsNominalPeakInEveryMatrixAndRange) {
  RgbaCanvas canvas(6, 4);
  canvas.fill(0, 0, 6, 4, 255, 255, 255, 255);
  for (auto matrix : {YuvMatrix::bt601, YuvMatrix::bt709}) {
    const YuvaSprite limited = canvas.sprite(matrix, YuvRange::limited);
    EXPECT_EQ(limited.y[0], 235);
    EXPECT_EQ(limited.y_alpha[0], 255);
    // Chroma sample 1 (luma column 2) is covered by columns 1..3: fully inside.
    EXPECT_EQ(limited.chroma_alpha[1], 255);
    EXPECT_EQ(limited.u[1], 128);
    EXPECT_EQ(limited.v[1], 128);
    const YuvaSprite full = canvas.sprite(matrix, YuvRange::full);
    EXPECT_EQ(full.y[0], 255);
    EXPECT_EQ(full.u[1], 128);
  }
}

TEST(MakeSprite, PrimariesMatchTheStandardsTables) {
  // Opaque 100 % red, green, blue; BT.601 limited: (81,90,240), (145,54,34), (41,240,110);
  // BT.709 limited: (63,102,240), (173,42,26), (32,240,118).
  struct Case {
    YuvMatrix matrix;
    uint8_t r, g, b;
    int y, u, v;
  } cases[] = {
      {YuvMatrix::bt601, 255, 0, 0, 81, 90, 240},   {YuvMatrix::bt601, 0, 255, 0, 145, 54, 34},
      {YuvMatrix::bt601, 0, 0, 255, 41, 240, 110},  {YuvMatrix::bt709, 255, 0, 0, 63, 102, 240},
      {YuvMatrix::bt709, 0, 255, 0, 173, 42, 26},   {YuvMatrix::bt709, 0, 0, 255, 32, 240, 118},
  };
  for (const Case& c : cases) {
    RgbaCanvas canvas(4, 2);
    canvas.fill(0, 0, 4, 2, c.r, c.g, c.b, 255);
    const YuvaSprite s = canvas.sprite(c.matrix, YuvRange::limited);
    EXPECT_EQ(s.y[0], c.y);
    EXPECT_EQ(s.u[1], c.u);
    EXPECT_EQ(s.v[1], c.v);
  }
}

TEST(YuvBlend, OpaqueWhiteReplacesTheRegionExactly) {
  RgbaCanvas canvas(20, 10);
  canvas.fill(0, 0, 20, 10, 255, 255, 255, 255);
  OwnedYuvFrame frame(64, 36, 0, 0, 0);
  std::mt19937 rng(1);
  frame.randomize(rng);
  const OwnedYuvFrame before = frame;
  YuvFrameRef ref = frame.ref();
  blend_sprite(canvas.sprite(), 10, 6, kOpaque, ref);
  for (int row = 0; row < 36; ++row)
    for (int col = 0; col < 64; ++col) {
      const bool inside = col >= 10 && col < 30 && row >= 6 && row < 16;
      EXPECT_EQ(frame.at(0, col, row), inside ? 235 : before.at(0, col, row)) << col << "," << row;
    }
  // Chroma columns 6..14 (luma 12..28) are fully covered; 5 and 15 half-covered edges.
  for (int row = 3; row < 8; ++row)
    for (int col = 6; col <= 14; ++col) {
      EXPECT_EQ(frame.at(1, col, row), 128);
      EXPECT_EQ(frame.at(2, col, row), 128);
    }
  EXPECT_EQ(frame.at(1, 4, 3), before.at(1, 4, 3));
  EXPECT_EQ(frame.at(1, 16, 3), before.at(1, 16, 3));
  EXPECT_EQ(frame.at(1, 10, 2), before.at(1, 10, 2));
  EXPECT_EQ(frame.at(1, 10, 8), before.at(1, 10, 8));
}

TEST(YuvBlend, HalfRedOverGreyMatchesHandComputedValues) {
  // Premultiplied red at alpha 128: (128, 0, 0, 128). BT.601 limited, a = 128/255:
  //   L  = 0.299 * 128                                   = 38.272
  //   Y' = (16 * 128 + 219 * L) / 255                    = 40.90 -> 41
  //   Cb = (128 * 128 + 224 * (0 - L) / 1.772) / 255     = 45.28 -> 45
  //   Cr = (128 * 128 + 224 * (128 - L) / 1.402) / 255   = 120.47 -> 120
  // over grey (128, 128, 128): out = p + 128 * 127 / 255 (= 63.75)
  //   Y 104.65 -> 105, Cb 109.03 -> 109, Cr 184.22 -> 184.
  RgbaCanvas canvas(16, 16);
  canvas.fill(0, 0, 16, 16, 128, 0, 0, 128);
  const YuvaSprite sprite = canvas.sprite(YuvMatrix::bt601, YuvRange::limited);
  EXPECT_EQ(sprite.y[0], 41);
  EXPECT_EQ(sprite.u[3], 45);
  EXPECT_EQ(sprite.v[3], 120);
  OwnedYuvFrame frame(32, 32, 128, 128, 128);
  YuvFrameRef ref = frame.ref();
  blend_sprite(sprite, 8, 8, kOpaque, ref);
  EXPECT_EQ(frame.at(0, 8, 8), 105);
  EXPECT_EQ(frame.at(0, 23, 23), 105);
  EXPECT_EQ(frame.at(0, 24, 24), 128);
  EXPECT_EQ(frame.at(1, 8, 8), 109);
  EXPECT_EQ(frame.at(2, 8, 8), 184);
}

TEST(YuvBlend, TransparentSpriteAndZeroOpacityLeaveTheFrameBitIdentical) {
  std::mt19937 rng(5);
  OwnedYuvFrame frame(50, 30, 0, 0, 0);
  frame.randomize(rng);
  const OwnedYuvFrame before = frame;
  YuvFrameRef ref = frame.ref();
  RgbaCanvas transparent(40, 20);
  blend_sprite(transparent.sprite(), 4, 4, kOpaque, ref);
  EXPECT_TRUE(frame.same_picture(before));
  EXPECT_EQ(frame.planes[0], before.planes[0]);  // padding untouched too

  RgbaCanvas opaque(40, 20);
  opaque.fill(0, 0, 40, 20, 200, 10, 60, 255);
  blend_sprite(opaque.sprite(), 4, 4, 0, ref);
  EXPECT_TRUE(frame.same_picture(before));
}

TEST(YuvBlend, OpacityScalesTheOverlay) {
  RgbaCanvas canvas(8, 8);
  canvas.fill(0, 0, 8, 8, 255, 255, 255, 255);
  const YuvaSprite sprite = canvas.sprite();
  OwnedYuvFrame full(16, 16, 16, 128, 128);
  YuvFrameRef full_ref = full.ref();
  blend_sprite(sprite, 0, 0, kOpaque, full_ref);
  EXPECT_EQ(full.at(0, 3, 3), 235);
  OwnedYuvFrame half(16, 16, 16, 128, 128);
  YuvFrameRef half_ref = half.ref();
  blend_sprite(sprite, 0, 0, 128, half_ref);
  // 16 * (1 - 128/256) + 235 * 128/256 = 125.5: a tie, either neighbour is nearest
  EXPECT_NEAR(half.at(0, 3, 3), 125.5, 0.5001);
  EXPECT_EQ(half.at(0, 9, 9), 16);
}

// Blending clipped must equal blending into a larger frame and cropping.
void expect_clipped_equals_cropped(const YuvaSprite& sprite, int x, int y) {
  std::mt19937 rng(static_cast<unsigned>(x * 1000 + y));
  const int margin = 40;  // even, larger than the sprite
  OwnedYuvFrame big(30 + 2 * margin, 20 + 2 * margin, 0, 0, 0);
  big.randomize(rng);
  OwnedYuvFrame frame(30, 20, 0, 0, 0);
  for (int p = 0; p < 3; ++p)
    for (int row = 0; row < frame.plane_height(p); ++row)
      for (int col = 0; col < frame.plane_width(p); ++col)
        frame.at(p, col, row) = big.at(p, col + (p ? margin / 2 : margin), row + (p ? margin / 2 : margin));
  YuvFrameRef big_ref = big.ref(), ref = frame.ref();
  blend_sprite(sprite, x + margin, y + margin, kOpaque, big_ref);
  blend_sprite(sprite, x, y, kOpaque, ref);
  for (int p = 0; p < 3; ++p)
    for (int row = 0; row < frame.plane_height(p); ++row)
      for (int col = 0; col < frame.plane_width(p); ++col)
        ASSERT_EQ(frame.at(p, col, row),
                  big.at(p, col + (p ? margin / 2 : margin), row + (p ? margin / 2 : margin)))
            << "plane " << p << " at " << col << "," << row << " sprite at " << x << "," << y;
}

TEST(YuvBlend, ClipsAtAllFourEdges) {
  std::mt19937 rng(9);
  RgbaCanvas canvas(15, 11);  // odd sizes: the last chroma column and row are partial
  canvas.randomize(rng);
  const YuvaSprite sprite = canvas.sprite();
  for (int x : {-14, -8, -2, 0, 10, 20, 28})
    for (int y : {-10, -4, 0, 8, 14, 18}) expect_clipped_equals_cropped(sprite, x, y);
  // Entirely outside: nothing to do, nothing touched.
  OwnedYuvFrame frame(30, 20, 1, 2, 3);
  const OwnedYuvFrame before = frame;
  YuvFrameRef ref = frame.ref();
  for (auto [x, y] : {std::pair{-100, 0}, {100, 0}, {0, -100}, {0, 100}}) blend_sprite(sprite, x, y, kOpaque, ref);
  EXPECT_TRUE(frame.same_picture(before));
}

TEST(YuvBlend, OddPositionsRoundDownToEven) {
  RgbaCanvas canvas(4, 4);
  canvas.fill(0, 0, 4, 4, 255, 255, 255, 255);
  OwnedYuvFrame odd(16, 16, 16, 128, 128), even(16, 16, 16, 128, 128);
  YuvFrameRef odd_ref = odd.ref(), even_ref = even.ref();
  blend_sprite(canvas.sprite(), 5, 7, kOpaque, odd_ref);
  blend_sprite(canvas.sprite(), 4, 6, kOpaque, even_ref);
  EXPECT_TRUE(odd.same_picture(even));
}

TEST(YuvBlend, ChromaIsSitedLeftOnATwoColumnEdge) {
  // Columns 0-1 opaque red, 2-3 transparent. Left siting: chroma sample 0 sits on luma
  // column 0 and sees columns -1, 0, 1 with weights 1/4, 1/2, 1/4 -> coverage 3/4;
  // sample 1 sits on column 2 and sees column 1 with 1/4 -> coverage 1/4. (Centre
  // siting would give 1 and 0.)
  RgbaCanvas canvas(4, 2);
  canvas.fill(0, 0, 2, 2, 255, 0, 0, 255);
  const YuvaSprite sprite = canvas.sprite(YuvMatrix::bt601, YuvRange::limited);
  ASSERT_EQ(sprite.chroma_width, 3);
  ASSERT_EQ(sprite.chroma_height, 1);
  EXPECT_EQ(sprite.chroma_alpha[0], 191);  // 191.25
  EXPECT_EQ(sprite.chroma_alpha[1], 64);   // 63.75
  EXPECT_EQ(sprite.chroma_alpha[2], 0);
  // Premultiplied Cr of red is 240 * coverage: 180 and 60.
  EXPECT_EQ(sprite.v[0], 180);
  EXPECT_EQ(sprite.v[1], 60);
  // Over neutral grey chroma 128: 180 + 128 * 64/255 = 212.1; 60 + 128 * 191/255 = 155.9.
  OwnedYuvFrame frame(8, 2, 128, 128, 128);
  YuvFrameRef ref = frame.ref();
  blend_sprite(sprite, 2, 0, kOpaque, ref);
  EXPECT_EQ(frame.at(2, 0, 0), 128);
  EXPECT_EQ(frame.at(2, 1, 0), 212);
  EXPECT_EQ(frame.at(2, 2, 0), 156);
  EXPECT_EQ(frame.at(2, 3, 0), 128);
  EXPECT_EQ(frame.at(0, 2, 0), 81);
  EXPECT_EQ(frame.at(0, 3, 1), 81);
  EXPECT_EQ(frame.at(0, 4, 0), 128);
}

TEST(YuvColor, SourceDecidesElseHeight) {
  EXPECT_EQ(yuv_color_of(AVCOL_SPC_BT709, AVCOL_RANGE_MPEG, 480), (YuvColor{YuvMatrix::bt709, YuvRange::limited}));
  EXPECT_EQ(yuv_color_of(AVCOL_SPC_SMPTE170M, AVCOL_RANGE_JPEG, 1080), (YuvColor{YuvMatrix::bt601, YuvRange::full}));
  EXPECT_EQ(yuv_color_of(AVCOL_SPC_UNSPECIFIED, AVCOL_RANGE_UNSPECIFIED, 720), (YuvColor{YuvMatrix::bt709, YuvRange::limited}));
  EXPECT_EQ(yuv_color_of(AVCOL_SPC_UNSPECIFIED, AVCOL_RANGE_UNSPECIFIED, 576), (YuvColor{YuvMatrix::bt601, YuvRange::limited}));
}

}  // namespace
}  // namespace anchorcast::compositor
