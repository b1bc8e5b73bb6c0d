// Wall-clock dates as HLS writes them (RFC 8216 §4.3.2.6 and §4.3.2.7: ISO/IEC
// 8601:2004 with a time zone and at least millisecond accuracy).
#pragma once

#include <chrono>
#include <string>

namespace anchorcast {

// "2027-01-15T08:00:00.040Z"
std::string format_iso8601_ms(std::chrono::system_clock::time_point t);

}  // namespace anchorcast
