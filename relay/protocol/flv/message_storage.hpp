// A packet that keeps the message its tag body was parsed from as its storage
// (payload_offset) instead of a copy of the body. The body must run to the message's
// end: bytes() reads to the end.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "anchorcast/core/result.hpp"
#include "anchorcast/media/packet.hpp"

namespace anchorcast::flv {

inline Result<uint32_t> body_offset(std::span<const uint8_t> body, const std::vector<uint8_t>& message) {
  const uint8_t* begin = message.data();
  const uint8_t* end = begin + message.size();
  const std::less_equal<const uint8_t*> at_or_before;
  if (!at_or_before(begin, body.data()) || body.data() + body.size() != end)
    return make_error("FLV tag body is not the tail of its message");
  return static_cast<uint32_t>(body.data() - begin);
}

// `packet` was made from a tag whose body bytes were left out (its data span empty); it
// takes `message`, where that body is the tail `body`.
inline Result<Packet> keep_message(Result<Packet> packet, std::span<const uint8_t> body,
                                   std::vector<uint8_t>&& message) {
  if (!packet) return packet;
  auto offset = body_offset(body, message);
  if (!offset) return offset.error();
  packet->payload = std::move(message);
  packet->payload_offset = *offset;
  return packet;
}

}  // namespace anchorcast::flv
