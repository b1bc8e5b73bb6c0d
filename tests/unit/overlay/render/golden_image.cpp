#include "golden_image.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "overlay/render/rgba_surface.hpp"

namespace anchorcast::overlay::render::test {

namespace {
constexpr int kChannelTolerance = 8;
constexpr double kMaxDifferingShare = 0.005;

bool update_requested() {
  const char* v = std::getenv("ANCHORCAST_UPDATE_GOLDEN");
  return v && std::string(v) == "1";
}
}  // namespace

std::string golden_path(const std::string& name) { return std::string(ANCHORCAST_TEST_GOLDEN) + "/" + name + ".png"; }

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

RgbaImage read_png(const std::string& path) {
  if (!std::filesystem::exists(path)) return {};
  CairoSurfacePtr surface(cairo_image_surface_create_from_png(path.c_str()));
  if (cairo_surface_status(surface.get()) != CAIRO_STATUS_SUCCESS) return {};
  if (cairo_image_surface_get_format(surface.get()) != CAIRO_FORMAT_ARGB32) {
    // An opaque PNG loads as RGB24: redraw it into ARGB32.
    const int w = cairo_image_surface_get_width(surface.get()), h = cairo_image_surface_get_height(surface.get());
    CairoSurfacePtr argb(cairo_image_surface_create(CAIRO_FORMAT_ARGB32, w, h));
    CairoPtr cr(cairo_create(argb.get()));
    cairo_set_source_surface(cr.get(), surface.get(), 0, 0);
    cairo_paint(cr.get());
    cr.reset();
    return rgba_from_surface(argb.get());
  }
  return rgba_from_surface(surface.get());
}

bool write_png(const RgbaImage& image, const std::string& path) {
  CairoSurfacePtr surface = surface_from_rgba(image);
  return surface && cairo_surface_write_to_png(surface.get(), path.c_str()) == CAIRO_STATUS_SUCCESS;
}

::testing::AssertionResult matches_golden(const RgbaImage& actual, const std::string& name) {
  const std::string path = golden_path(name);
  if (actual.empty()) return ::testing::AssertionFailure() << name << ": the renderer returned an empty image";
  if (update_requested()) {
    if (!write_png(actual, path)) return ::testing::AssertionFailure() << "cannot write " << path;
    return ::testing::AssertionSuccess() << "updated " << path;
  }
  const RgbaImage golden = read_png(path);
  auto mismatch = [&]() {
    std::filesystem::create_directories("golden-actual");
    const std::string actual_path = std::filesystem::absolute("golden-actual/" + name + ".png").string();
    write_png(actual, actual_path);
    return ::testing::AssertionFailure() << name << ": actual image written to " << actual_path
                                         << " (ANCHORCAST_UPDATE_GOLDEN=1 regenerates " << path << "): ";
  };
  if (golden.empty()) return mismatch() << "golden " << path << " is missing or unreadable";
  if (golden.width != actual.width || golden.height != actual.height)
    return mismatch() << "size " << actual.width << "x" << actual.height << ", golden " << golden.width << "x"
                      << golden.height;
  size_t differing = 0;
  int worst = 0;
  for (size_t i = 0; i < actual.pixels.size(); i += 4) {
    int pixel_worst = 0;
    for (size_t c = 0; c < 4; ++c) pixel_worst = std::max(pixel_worst, std::abs(actual.pixels[i + c] - golden.pixels[i + c]));
    worst = std::max(worst, pixel_worst);
    if (pixel_worst > kChannelTolerance) ++differing;
  }
  const size_t pixels = actual.pixels.size() / 4;
  if (static_cast<double>(differing) > kMaxDifferingShare * static_cast<double>(pixels))
    return mismatch() << differing << " of " << pixels << " pixels differ by more than " << kChannelTolerance
                      << " (worst " << worst << ")";
  return ::testing::AssertionSuccess();
}

}  // namespace anchorcast::overlay::render::test
