// The full check of a merchant's image: decode it with FFmpeg (PNG, MJPEG, WebP
// decoders, errors not concealed) and compare the decoded size with the header's. The
// header probe (image_probe.hpp) runs first, so only images within the caps get here.
// Not in the fuzz build: it needs libavcodec.
#pragma once

#include <string>
#include <string_view>

#include "anchorcast/core/result.hpp"
#include "overlay/control/image_probe.hpp"
#include "relay/codec/av_handles.hpp"

namespace anchorcast::control {

// The one frame of a PNG, JPEG or WebP whose header probe_image read as `info`, decoded
// with damage refused rather than concealed, and its size checked against the header:
// "cannot be decoded as image/png (Invalid data found when processing input)".
Result<AvFramePtr> decode_image_frame(std::string_view bytes, const ImageInfo& info);

// "cannot be decoded as image/png (Invalid data found when processing input)".
Status verify_image_decodes(const DecodedImage& image);

}  // namespace anchorcast::control
