// The full check of a merchant's image: decode it with FFmpeg (PNG, MJPEG, WebP
// decoders, errors not concealed) and compare the decoded size with the header's. The
// header probe (image_probe.hpp) runs first, so only images within the caps get here.
// Not in the fuzz build: it needs libavcodec.
#pragma once

#include "anchorcast/core/result.hpp"
#include "control/image_probe.hpp"

namespace anchorcast::control {

// "cannot be decoded as image/png (Invalid data found when processing input)".
Status verify_image_decodes(const DecodedImage& image);

}  // namespace anchorcast::control
