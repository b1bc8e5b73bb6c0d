// Where a committed scene goes on its way to viewers. Two implementations:
// MetadataOutput (metadata_output.hpp: a cue on a rendition at its current position,
// applied at once) and compositor::Compositor (burned into the main rendition, applied
// with the first frame that shows it). Each reports `applied` through the one callback it
// was built with; set_scene returns nothing, so there is one path for the event.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "overlay/metadata/scene.hpp"

namespace anchorcast::metadata {

// A change first reached viewers, at `pts_ms` (ms, the output timeline of the rendition
// that carries it). Called with none of the output's locks held, from set_scene's caller
// or from the output's own thread; the receiver takes its own locks.
using AppliedCallback = std::function<void(uint64_t version, int64_t pts_ms)>;

class SceneOutput {
 public:
  virtual ~SceneOutput() = default;
  // A committed change. `versions` are the changes it carries that merchants wait an
  // `applied` for (several when one batch changed the stream more than once).
  virtual void set_scene(ScenePtr scene, std::vector<uint64_t> versions) = 0;
};

}  // namespace anchorcast::metadata
