// The metadata path: every change becomes a cue on one rendition (a stream's source) at
// its current output position. Nothing is drawn, so the change reaches viewers with the
// next packet: it applies at once, at the cue's pts.
#pragma once

#include <memory>

#include "overlay/metadata/scene_output.hpp"

namespace anchorcast {
class Stream;
}

namespace anchorcast::metadata {

class MetadataOutput final : public SceneOutput {
 public:
  // `applied` may be empty: a burn-in stream's source is cued too, but its default
  // viewers watch the main rendition, so there the compositor alone reports `applied`.
  MetadataOutput(std::shared_ptr<Stream> rendition, AppliedCallback applied);

  void set_scene(ScenePtr scene, std::vector<uint64_t> versions) override;

 private:
  std::shared_ptr<Stream> rendition_;
  AppliedCallback applied_;
};

}  // namespace anchorcast::metadata
