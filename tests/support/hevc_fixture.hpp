// tests/data/hevc_aac_320x240.ts (libx265 + AAC, tests/data/README.md says how it was
// made) as the hub gets it from an SRT publisher: our TsDemuxer's tracks and packets
// (90 kHz), with the video track's HEVCDecoderConfigurationRecord always filled in (built
// from the first keyframe's parameter sets when the demuxer leaves them in band).
#pragma once

#include <vector>

#include "anchorcast/media/packet.hpp"
#include "anchorcast/media/track.hpp"

namespace anchorcast::fixtures {

struct HevcFixture {
  TrackSet tracks;
  std::vector<PacketPtr> packets;  // in demux order, video and audio interleaved
};

// 1.2 s: 30 frames of 320x240 HEVC Main (B-frames, a keyframe every 10) and 58 frames of
// 48 kHz mono AAC LC.
HevcFixture load_hevc_fixture();

// What a TS publisher's stream looks like when nothing builds a record: the track's
// decoder configuration empty, and each keyframe with the VPS, SPS and PPS in band in
// front of its NAL units (added unless the keyframe already carries them).
HevcFixture with_parameter_sets_in_band(const HevcFixture& fixture);

}  // namespace anchorcast::fixtures
