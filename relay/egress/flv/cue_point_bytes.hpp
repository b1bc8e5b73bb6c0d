// The onCuePoint body of a cue, encoded once and shared by every FLV and RTMP viewer of
// the stream, the way packets are: the viewers' batches reference it, never copy it.
#pragma once

#include "anchorcast/hub/media_event.hpp"

namespace anchorcast {

// The body wrapped in a Packet because Packet is what FLV and RTMP batches know how to
// reference and keep alive; only `payload` means anything. Encoded on the first call
// for a cue; the other viewers of that cue get the same bytes.
PacketPtr cue_point_bytes(const CuePtr& cue);

}  // namespace anchorcast
