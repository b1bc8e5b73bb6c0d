// What the server knows of a stored image without its bytes: the admin API lists these,
// the store loads them, the writer learns new ones from merchants' inline images.
#pragma once

#include <cstdint>
#include <string>

namespace anchorcast {

struct AssetInfo {
  std::string id;  // "img-" + 16 hex digits of the SHA-256 of the bytes
  std::string mime;
  int width = 0;
  int height = 0;
  int64_t bytes = 0;
};

}  // namespace anchorcast
