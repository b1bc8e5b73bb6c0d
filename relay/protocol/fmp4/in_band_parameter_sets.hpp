// Parameter sets a publisher sends in band, against the decoder configuration an
// avc1/hvc1 sample entry carries. Those sample entries hold every parameter set and the
// samples none (ISO/IEC 14496-15 §5.4.2, §8.4.1), while a TS publisher (SRT) sends no
// record at all and repeats VPS/SPS/PPS before each keyframe: the record the sample entry
// needs comes from the keyframes, and a keyframe with new parameter sets needs a new one.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "anchorcast/core/result.hpp"
#include "anchorcast/media/packet.hpp"

namespace anchorcast::fmp4 {

// For a keyframe (4-byte length-prefixed NAL units) of an H.264 or HEVC track whose
// current record is `record` (avcC or hvcC; empty when the publisher sent none):
// nullopt when `record` already holds every parameter set the keyframe carries (or it
// carries none); else the record to switch to, built from the keyframe's first VPS (HEVC),
// SPS and PPS, any it lacks taken from `record`. Fails when the access unit does not parse
// or no complete set can be had.
Result<std::optional<std::vector<uint8_t>>> decoder_config_for_keyframe(Codec codec,
                                                                        std::span<const uint8_t> record,
                                                                        std::span<const uint8_t> access_unit);

}  // namespace anchorcast::fmp4
