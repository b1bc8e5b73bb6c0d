// The one place a scene becomes timed metadata: the Cue (hub/media_event.hpp) every
// egress turns into its protocol's form (HLS DATERANGE/ID3, FLV/RTMP onCuePoint, the
// WebRTC data channel). Both scene outputs stamp it with the pts it applies at.
#pragma once

#include <cstdint>

#include "anchorcast/hub/media_event.hpp"
#include "overlay/metadata/scene.hpp"

namespace anchorcast::metadata {

// {"type":"overlays","version":V,"pts_ms":P,"overlays":[...]}
CuePtr build_cue(const Scene& scene, int64_t pts_ms);

}  // namespace anchorcast::metadata
