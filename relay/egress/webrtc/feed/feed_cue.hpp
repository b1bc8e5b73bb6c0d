// A timed-metadata cue as WebRTC viewers get it on the `overlay` data channel: the hub's
// Cue stamped once per stream with the 90 kHz video RTP timestamp of its pts (the same
// mapping the feed uses for video packets), and its two JSON texts built once:
//   {"type":"cue","version":V,"pts_ms":P,"rtp_timestamp":T,"overlays":[...]}
//   {"type":"snapshot", ...the same fields...}  (sent when a channel opens)
// Every field of the hub's cue object but "type" is kept (overlays, and whatever a
// later version adds).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "anchorcast/core/result.hpp"
#include "anchorcast/hub/media_event.hpp"

namespace anchorcast::webrtc {

struct FeedCue {
  int64_t pts_ms = 0;
  uint64_t version = 0;
  uint32_t rtp_timestamp = 0;
  std::string cue_message;
  std::string snapshot_message;
};
using FeedCuePtr = std::shared_ptr<const FeedCue>;

// Fails when the cue's json is not a JSON object.
Result<FeedCue> stamp_cue(const Cue& cue, uint32_t rtp_timestamp);

// The snapshot for a channel opened before any cue: no overlays.
const std::string& empty_snapshot_message();

}  // namespace anchorcast::webrtc
