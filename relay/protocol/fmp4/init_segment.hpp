// The initialization segment of a fragmented MP4 (ISO/IEC 14496-12 §8.8; an HLS
// EXT-X-MAP, RFC 8216bis §3.1.2): `ftyp`, then a `moov` with one `trak` per track, empty
// sample tables and `mvex`/`trex`, so every sample is in the media segments' fragments.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "relay/protocol/fmp4/track_config.hpp"

namespace anchorcast::fmp4 {

// Appends ftyp + moov for `tracks`, in order (their track_ids must differ).
void write_init_segment(std::span<const TrackConfig> tracks, std::vector<uint8_t>& out);

}  // namespace anchorcast::fmp4
