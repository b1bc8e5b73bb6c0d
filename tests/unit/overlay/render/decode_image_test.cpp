#include <random>

#include <gtest/gtest.h>

#include "golden_image.hpp"
#include "overlay/render/card_renderer.hpp"

namespace anchorcast::overlay::render::test {
namespace {

std::string input(const std::string& name) { return read_file(std::string(ANCHORCAST_TEST_GOLDEN) + "/inputs/" + name); }

const uint8_t* pixel(const RgbaImage& image, int x, int y) {
  return &image.pixels[(static_cast<size_t>(y) * image.width + x) * 4];
}

TEST(DecodeImage, JpegDecodesToOpaqueRgba) {
  // product.jpg: ffmpeg -f lavfi -i testsrc2=size=320x240 -frames:v 1 -q:v 4 (yuvj420p).
  auto image = decode_image(input("product.jpg"));
  ASSERT_TRUE(image) << image.error().message;
  EXPECT_EQ(image->width, 320);
  EXPECT_EQ(image->height, 240);
  ASSERT_EQ(image->pixels.size(), 320u * 240 * 4);
  for (size_t i = 3; i < image->pixels.size(); i += 4) ASSERT_EQ(image->pixels[i], 255);
}

TEST(DecodeImage, PngWithAlphaIsPremultiplied) {
  // product_alpha.png: a 120x180 RGBA gradient, opaque inside a circle of radius 55
  // round (60, 90), transparent outside (ffmpeg gradients + geq).
  auto image = decode_image(input("product_alpha.png"));
  ASSERT_TRUE(image) << image.error().message;
  EXPECT_EQ(image->width, 120);
  EXPECT_EQ(image->height, 180);
  const uint8_t* corner = pixel(*image, 0, 0);
  EXPECT_EQ(corner[0] | corner[1] | corner[2] | corner[3], 0) << "transparent and premultiplied: all zero";
  EXPECT_EQ(pixel(*image, 60, 90)[3], 255);
}

TEST(DecodeImage, LosslessWebpWithAlphaMatchesThePng) {
  // product_alpha.webp: ffmpeg -i product_alpha.png -c:v libwebp -lossless 1.
  auto webp = decode_image(input("product_alpha.webp"));
  auto png = decode_image(input("product_alpha.png"));
  ASSERT_TRUE(webp) << webp.error().message;
  ASSERT_TRUE(png) << png.error().message;
  EXPECT_EQ(webp->width, 120);
  EXPECT_EQ(webp->height, 180);
  EXPECT_EQ(webp->pixels, png->pixels);
}

TEST(DecodeImage, GarbageIsAnError) {
  auto image = decode_image("this is not an image at all, just some text");
  ASSERT_FALSE(image);
  EXPECT_NE(image.error().message.find("not a PNG, JPEG or WebP"), std::string::npos) << image.error().message;
}

TEST(DecodeImage, EmptyIsAnError) { EXPECT_FALSE(decode_image("")); }

TEST(DecodeImage, TruncatedPngIsAnError) {
  const std::string png = input("product_alpha.png");
  for (size_t keep : {size_t{8}, size_t{33}, png.size() / 2, png.size() - 13}) {
    auto image = decode_image(std::string_view(png).substr(0, keep));
    EXPECT_FALSE(image) << "kept " << keep << " bytes";
  }
}

TEST(DecodeImage, TruncatedOrDamagedJpegIsAnErrorOrAnImageNeverACrash) {
  std::string jpeg = input("product.jpg");
  EXPECT_FALSE(decode_image(std::string_view(jpeg).substr(0, 200)));  // headers only, no scan
  for (size_t i = 400; i < jpeg.size(); i += 97) jpeg[i] = static_cast<char>(jpeg[i] ^ 0x5A);
  auto damaged = decode_image(jpeg);
  if (damaged) {
    EXPECT_EQ(damaged->width, 320);
  }
}

TEST(DecodeImage, MutatedFixturesGiveAnErrorOrAWellFormedImage) {
  // Seeded, so a failure reproduces; run under the ASan build for memory errors.
  std::mt19937 random(20261124);
  for (const char* name : {"product.jpg", "product_alpha.png", "product_alpha.webp"}) {
    const std::string original = input(name);
    for (int round = 0; round < 60; ++round) {
      std::string bytes = original;
      const int flips = 1 + static_cast<int>(random() % 8);
      for (int i = 0; i < flips; ++i) bytes[random() % bytes.size()] = static_cast<char>(random());
      if (round % 3 == 0) bytes.resize(random() % bytes.size());
      auto image = decode_image(bytes);
      if (!image) {
        EXPECT_FALSE(image.error().message.empty());
        continue;
      }
      EXPECT_GT(image->width, 0) << name << " round " << round;
      EXPECT_EQ(image->pixels.size(), static_cast<size_t>(image->width) * image->height * 4) << name << " round " << round;
    }
  }
}

TEST(CoverSquare, CropsTheCentreOfAWideImage) {
  // Three 100x100 squares side by side: red, green, blue. The cover square is the green one.
  RgbaImage wide{300, 100, std::vector<uint8_t>(300 * 100 * 4)};
  for (int y = 0; y < 100; ++y)
    for (int x = 0; x < 300; ++x) {
      uint8_t* p = &wide.pixels[(static_cast<size_t>(y) * 300 + x) * 4];
      p[x / 100] = 255;
      p[3] = 255;
    }
  const RgbaImage square = cover_square(wide, 64);
  ASSERT_EQ(square.width, 64);
  ASSERT_EQ(square.height, 64);
  const uint8_t* centre = pixel(square, 32, 32);
  EXPECT_LE(centre[0], 2);
  EXPECT_GE(centre[1], 253);
  EXPECT_LE(centre[2], 2);
  const uint8_t* edge = pixel(square, 1, 32);
  EXPECT_LE(edge[0], 40) << "only a filter tap of red may bleed in";
}

TEST(CoverSquare, AnImageOfTheRightSizeIsUsedAsIs) {
  RgbaImage square{8, 8, std::vector<uint8_t>(8 * 8 * 4, 77)};
  EXPECT_EQ(cover_square(square, 8).pixels, square.pixels);
}

TEST(CoverSquare, PrescaledImageRendersTheSameCard) {
  const RgbaImage jpeg = decode_image(input("product.jpg")).value();
  control::Overlay card;
  card.title = "真丝连衣裙";
  card.price = "¥299";
  CardRenderer renderer(1080);
  const RgbaImage prescaled = cover_square(jpeg, renderer.geometry(control::OverlayKind::card).image.width);
  EXPECT_EQ(renderer.render({.overlay = &card, .image = &jpeg}).pixels,
            renderer.render({.overlay = &card, .image = &prescaled}).pixels);
}

TEST(CoverSquare, EmptyImageGivesEmpty) { EXPECT_TRUE(cover_square({}, 64).empty()); }

}  // namespace
}  // namespace anchorcast::overlay::render::test
