// What the control plane hands the compositor after each committed change: the stream's
// overlays at that version. Immutable once published; the compositor decides per frame
// what is visible (cards time out, sale countdowns tick) from the records' times.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "overlay/state/overlay_state.hpp"

namespace anchorcast::compositor {

struct Scene {
  uint64_t version = 0;
  std::vector<overlay::OverlayRecord> overlays;  // list order: later ones are drawn on top
  std::string overlays_json;  // the contract's `overlays` list at commit time (for cues)
};

// The timed-metadata JSON of a scene at `pts_ms` (see hub/media_event.hpp: Cue).
inline std::string cue_json(const Scene& scene, int64_t pts_ms) {
  return R"({"type":"overlays","version":)" + std::to_string(scene.version) + R"(,"pts_ms":)" +
         std::to_string(pts_ms) + R"(,"overlays":)" + scene.overlays_json + "}";
}

using ScenePtr = std::shared_ptr<const Scene>;

}  // namespace anchorcast::compositor
