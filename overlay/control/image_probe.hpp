// Images merchants send (a `data:` URI in a command, or an upload through the admin API):
// base64 decoding and a bounded header parse that finds the format and the dimensions.
// Pure: bytes in, a value or an error out (fuzzed through fuzz_control_command).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "anchorcast/core/result.hpp"

namespace anchorcast::control {

constexpr size_t kMaxImageBytes = 1 << 20;  // decoded
constexpr int kMaxImageSide = 4096;

struct ImageInfo {
  std::string mime;  // image/png, image/jpeg, image/webp
  int width = 0;
  int height = 0;
};

// RFC 4648 base64 (padding optional, no whitespace); nullopt on any other byte or when
// the decoded size would pass `max_bytes`.
std::optional<std::string> decode_base64(std::string_view text, size_t max_bytes);

// Format by magic number, dimensions from the header (PNG IHDR, JPEG SOFn, WebP
// VP8/VP8L/VP8X). Errors say what is wrong: "not a PNG, JPEG or WebP image",
// "5000x300 is larger than 4096x4096".
Result<ImageInfo> probe_image(std::string_view bytes);

// "data:image/png;base64,...." → the decoded bytes and their ImageInfo.
struct DecodedImage {
  ImageInfo info;
  std::string bytes;
};
Result<DecodedImage> decode_data_uri(std::string_view uri);

// Content address of an image: "img-" + the first 16 hex digits of its SHA-256.
std::string asset_id_for(std::string_view bytes);

}  // namespace anchorcast::control
