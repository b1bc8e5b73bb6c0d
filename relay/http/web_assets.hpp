// The viewer page and merchant console as bundled by esbuild: web/CMakeLists.txt
// generates the definition (the bytes) at build time, so the binary serves them with no
// network and no files beside it.
#pragma once

#include <string_view>

namespace anchorcast {

struct WebAsset {
  std::string_view name;  // "watch.js", "watch.html", ...
  std::string_view content_type;
  std::string_view bytes;
  std::string_view etag;  // quoted, from the bytes' hash
};

const WebAsset* find_web_asset(std::string_view name);

}  // namespace anchorcast
