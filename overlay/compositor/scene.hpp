// What the control plane hands the compositor after each committed change: the stream's
// overlays at that version. Immutable once published; the compositor decides per frame
// what is visible (cards time out, sale countdowns tick) from the records' times.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "state/overlay_state.hpp"

namespace anchorcast::compositor {

struct Scene {
  uint64_t version = 0;
  std::vector<overlay::OverlayRecord> overlays;  // list order: later ones are drawn on top
};

using ScenePtr = std::shared_ptr<const Scene>;

}  // namespace anchorcast::compositor
