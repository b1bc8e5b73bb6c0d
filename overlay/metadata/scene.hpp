// A stream's overlays at one committed version: what the control plane hands every scene
// output (scene_output.hpp) after a change. Immutable once published; the compositor
// decides per frame what is visible (cards time out, sale countdowns tick) from the
// records' times, the metadata path sends `overlays_json` as it was at commit time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "overlay/state/overlay_state.hpp"

namespace anchorcast::metadata {

struct Scene {
  uint64_t version = 0;
  std::vector<overlay::OverlayRecord> overlays;  // list order: later ones are drawn on top
  std::string overlays_json;  // the contract's `overlays` list at commit time (for cues)
};

using ScenePtr = std::shared_ptr<const Scene>;

}  // namespace anchorcast::metadata
