// One RTMP message (Adobe RTMP spec 1.0, section 6.1): what the chunk stream carries,
// reassembled. The same shape goes out through the ChunkWriter.
#pragma once

#include <cstdint>
#include <vector>

namespace anchorcast::rtmp {

struct Message {
  uint8_t type_id = 0;
  uint32_t stream_id = 0;  // message stream id (0 = the NetConnection)
  uint32_t timestamp = 0;  // milliseconds, absolute (extended timestamps applied)
  uint32_t csid = 0;       // chunk stream it came on / goes out on
  std::vector<uint8_t> payload;
};

}  // namespace anchorcast::rtmp
