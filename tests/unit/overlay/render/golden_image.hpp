// Golden-image comparison for rendered cards. Goldens are PNGs in tests/golden/ (cairo
// writes them unpremultiplied; reading premultiplies again, ±1 per channel).
//
// ANCHORCAST_UPDATE_GOLDEN=1 rewrites a golden from the actual image. Without it a
// missing golden fails (fail-closed), and a mismatch writes the actual image to
// golden-actual/<name>.png under the working directory (the test's build dir).
#pragma once

#include <string>

#include <gtest/gtest.h>

#include "overlay/render/card_renderer.hpp"

namespace anchorcast::overlay::render::test {

// A channel counts as different when it differs by more than 8; at most 0.5 % of the
// pixels may differ (FreeType or pixman point releases move antialiased edges a little).
::testing::AssertionResult matches_golden(const RgbaImage& actual, const std::string& name);

RgbaImage read_png(const std::string& path);  // empty when missing or unreadable
bool write_png(const RgbaImage& image, const std::string& path);
std::string golden_path(const std::string& name);
std::string read_file(const std::string& path);

}  // namespace anchorcast::overlay::render::test
