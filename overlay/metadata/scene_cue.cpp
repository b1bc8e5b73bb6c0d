#include "overlay/metadata/scene_cue.hpp"

#include <string>

namespace anchorcast::metadata {

CuePtr build_cue(const Scene& scene, int64_t pts_ms) {
  std::string json = R"({"type":"overlays","version":)" + std::to_string(scene.version) + R"(,"pts_ms":)" +
                     std::to_string(pts_ms) + R"(,"overlays":)" + scene.overlays_json + "}";
  return std::make_shared<Cue>(Cue{pts_ms, scene.version, std::move(json)});
}

}  // namespace anchorcast::metadata
