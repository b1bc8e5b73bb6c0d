// Owned YUV420P pictures for the compositor tests, with padded rows so stride handling
// is exercised.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "overlay/compositor/yuv_blend.hpp"

namespace anchorcast::compositor::testing {

struct OwnedYuvFrame {
  int width = 0, height = 0;
  int64_t pts = 0;
  int linesize[3] = {};
  std::vector<uint8_t> planes[3];

  OwnedYuvFrame(int w, int h, uint8_t y, uint8_t u, uint8_t v) : width(w), height(h) {
    const int padding = 13;
    const uint8_t fill[3] = {y, u, v};
    for (int p = 0; p < 3; ++p) {
      linesize[p] = plane_width(p) + padding;
      planes[p].assign(static_cast<size_t>(linesize[p]) * plane_height(p), fill[p]);
    }
  }
  int plane_width(int p) const { return p == 0 ? width : (width + 1) / 2; }
  int plane_height(int p) const { return p == 0 ? height : (height + 1) / 2; }
  uint8_t& at(int p, int col, int row) { return planes[p][static_cast<size_t>(row) * linesize[p] + col]; }
  uint8_t at(int p, int col, int row) const { return planes[p][static_cast<size_t>(row) * linesize[p] + col]; }

  YuvFrameRef ref() {
    YuvFrameRef r;
    for (int p = 0; p < 3; ++p) {
      r.data[p] = planes[p].data();
      r.linesize[p] = linesize[p];
    }
    r.width = width;
    r.height = height;
    return r;
  }

  void randomize(std::mt19937& rng) {
    std::uniform_int_distribution<int> byte(0, 255);
    for (auto& plane : planes)
      for (auto& b : plane) b = static_cast<uint8_t>(byte(rng));
  }

  // Visible samples equal (padding ignored).
  bool same_picture(const OwnedYuvFrame& other) const {
    for (int p = 0; p < 3; ++p)
      for (int row = 0; row < plane_height(p); ++row)
        for (int col = 0; col < plane_width(p); ++col)
          if (at(p, col, row) != other.at(p, col, row)) return false;
    return true;
  }
};

// Premultiplied RGBA, `width * 4` bytes per row.
struct RgbaCanvas {
  int width = 0, height = 0;
  std::vector<uint8_t> pixels;

  RgbaCanvas(int w, int h) : width(w), height(h), pixels(static_cast<size_t>(w) * h * 4, 0) {}
  void fill(int x0, int y0, int x1, int y1, uint8_t r, uint8_t g, uint8_t b, uint8_t a) {
    for (int row = y0; row < y1; ++row)
      for (int col = x0; col < x1; ++col) {
        uint8_t* p = &pixels[(static_cast<size_t>(row) * width + col) * 4];
        p[0] = r;
        p[1] = g;
        p[2] = b;
        p[3] = a;
      }
  }
  void randomize(std::mt19937& rng) {
    std::uniform_int_distribution<int> byte(0, 255);
    for (size_t i = 0; i < pixels.size(); i += 4) {
      const int a = byte(rng);
      for (int c = 0; c < 3; ++c) pixels[i + c] = static_cast<uint8_t>(byte(rng) * a / 255);
      pixels[i + 3] = static_cast<uint8_t>(a);
    }
  }
  YuvaSprite sprite(YuvMatrix matrix = YuvMatrix::bt601, YuvRange range = YuvRange::limited) const {
    return make_sprite(pixels.data(), width, height, width * 4, matrix, range);
  }
};

}  // namespace anchorcast::compositor::testing
