// Where a parsed tag body starts inside the message it was parsed from, so that an
// ingest can keep the message as a Packet's storage (payload_offset) instead of copying
// the body out. The body must run to the message's end: bytes() reads to the end.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "anchorcast/core/result.hpp"

namespace anchorcast::flv {

inline Result<uint32_t> body_offset(std::span<const uint8_t> body, const std::vector<uint8_t>& message) {
  const uint8_t* begin = message.data();
  const uint8_t* end = begin + message.size();
  const std::less_equal<const uint8_t*> at_or_before;
  if (!at_or_before(begin, body.data()) || body.data() + body.size() != end)
    return make_error("FLV tag body is not the tail of its message");
  return static_cast<uint32_t>(body.data() - begin);
}

}  // namespace anchorcast::flv
