// The overlay cue as an AMF0 script data body (Adobe FLV spec v10.1, E.4.4: SCRIPTDATA;
// the same body is an RTMP data message, type 18): "onCuePoint" and the cue point object
// Flash players and flv.js know (name, time in seconds, type "event", parameters), the
// overlay state in parameters.json.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace anchorcast::flv {

inline constexpr std::string_view kOverlayCuePointName = "overlay";

// ["onCuePoint", {name:"overlay", time:pts_ms/1000, type:"event",
//                 parameters:{json:<cue_json>, version:<version>}}]
std::vector<uint8_t> serialize_overlay_cue_point(int64_t pts_ms, uint64_t version, std::string_view cue_json);

}  // namespace anchorcast::flv
