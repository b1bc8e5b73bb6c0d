#include "overlay/render/rgba_surface.hpp"

#include <cstring>

namespace anchorcast::overlay::render {

RgbaImage rgba_from_surface(cairo_surface_t* surface) {
  cairo_surface_flush(surface);
  RgbaImage image;
  image.width = cairo_image_surface_get_width(surface);
  image.height = cairo_image_surface_get_height(surface);
  image.pixels.resize(static_cast<size_t>(image.width) * image.height * 4);
  const unsigned char* data = cairo_image_surface_get_data(surface);
  const int stride = cairo_image_surface_get_stride(surface);
  uint8_t* out = image.pixels.data();
  for (int y = 0; y < image.height; ++y) {
    const unsigned char* row = data + static_cast<size_t>(y) * stride;
    for (int x = 0; x < image.width; ++x) {
      uint32_t argb;
      std::memcpy(&argb, row + x * 4, 4);
      *out++ = static_cast<uint8_t>(argb >> 16);
      *out++ = static_cast<uint8_t>(argb >> 8);
      *out++ = static_cast<uint8_t>(argb);
      *out++ = static_cast<uint8_t>(argb >> 24);
    }
  }
  return image;
}

CairoSurfacePtr surface_from_rgba(const RgbaImage& image) {
  CairoSurfacePtr surface(cairo_image_surface_create(CAIRO_FORMAT_ARGB32, image.width, image.height));
  if (cairo_surface_status(surface.get()) != CAIRO_STATUS_SUCCESS) return nullptr;
  cairo_surface_flush(surface.get());
  unsigned char* data = cairo_image_surface_get_data(surface.get());
  const int stride = cairo_image_surface_get_stride(surface.get());
  const uint8_t* in = image.pixels.data();
  for (int y = 0; y < image.height; ++y) {
    unsigned char* row = data + static_cast<size_t>(y) * stride;
    for (int x = 0; x < image.width; ++x, in += 4) {
      const uint32_t argb = (uint32_t{in[3]} << 24) | (uint32_t{in[0]} << 16) | (uint32_t{in[1]} << 8) | in[2];
      std::memcpy(row + x * 4, &argb, 4);
    }
  }
  cairo_surface_mark_dirty(surface.get());
  return surface;
}

}  // namespace anchorcast::overlay::render
