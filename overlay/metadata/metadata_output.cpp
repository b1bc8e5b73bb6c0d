#include "overlay/metadata/metadata_output.hpp"

#include "anchorcast/hub/stream.hpp"
#include "overlay/metadata/scene_cue.hpp"

namespace anchorcast::metadata {

MetadataOutput::MetadataOutput(std::shared_ptr<Stream> rendition, AppliedCallback applied)
    : rendition_(std::move(rendition)), applied_(std::move(applied)) {}

void MetadataOutput::set_scene(ScenePtr scene, std::vector<uint64_t> versions) {
  int64_t pts = rendition_->output_position_ms();
  rendition_->push_cue(build_cue(*scene, pts));
  if (applied_)
    for (uint64_t v : versions) applied_(v, pts);
}

}  // namespace anchorcast::metadata
