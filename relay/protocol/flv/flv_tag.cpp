#include "relay/protocol/flv/flv_tag.hpp"

#include <string>

namespace anchorcast::flv {

Result<TagHeader> parse_tag_header(std::span<const uint8_t> b) {
  if (b.size() < kTagHeaderSize) return make_error("FLV tag header needs 11 bytes, got " + std::to_string(b.size()));
  TagHeader h;
  // E.4.1: Reserved UB[2], Filter UB[1], TagType UB[5].
  h.filtered = (b[0] & 0x20) != 0;
  uint8_t type = b[0] & 0x1F;
  if (type != 8 && type != 9 && type != 18)
    return make_error("FLV tag type " + std::to_string(type) + " is not audio (8), video (9) or script (18)");
  h.type = static_cast<TagType>(type);
  h.data_size = (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | b[3];
  uint32_t ts = (uint32_t{b[7]} << 24) | (uint32_t{b[4]} << 16) | (uint32_t{b[5]} << 8) | b[6];
  h.timestamp_ms = static_cast<int32_t>(ts);
  h.stream_id = (uint32_t{b[8]} << 16) | (uint32_t{b[9]} << 8) | b[10];
  return h;
}

std::array<uint8_t, kTagHeaderSize> serialize_tag_header(const TagHeader& h) {
  const auto ts = static_cast<uint32_t>(h.timestamp_ms);
  const uint32_t size = h.data_size & kMaxTagDataSize;
  return {static_cast<uint8_t>((h.filtered ? 0x20 : 0) | static_cast<uint8_t>(h.type)),
          static_cast<uint8_t>(size >> 16),
          static_cast<uint8_t>(size >> 8),
          static_cast<uint8_t>(size),
          static_cast<uint8_t>(ts >> 16),
          static_cast<uint8_t>(ts >> 8),
          static_cast<uint8_t>(ts),
          static_cast<uint8_t>(ts >> 24),  // TimestampExtended: the upper 8 bits
          static_cast<uint8_t>(h.stream_id >> 16),
          static_cast<uint8_t>(h.stream_id >> 8),
          static_cast<uint8_t>(h.stream_id)};
}

std::array<uint8_t, kPreviousTagSizeSize> serialize_previous_tag_size(uint32_t size) {
  return {static_cast<uint8_t>(size >> 24), static_cast<uint8_t>(size >> 16), static_cast<uint8_t>(size >> 8),
          static_cast<uint8_t>(size)};
}

Result<Tag> parse_tag(std::span<const uint8_t> b) {
  auto header = parse_tag_header(b);
  if (!header) return header.error();
  const size_t body_size = header->data_size;
  if (b.size() - kTagHeaderSize < body_size + kPreviousTagSizeSize)
    return make_error("FLV tag of " + std::to_string(body_size) + " body bytes is truncated (" +
                      std::to_string(b.size() - kTagHeaderSize) + " bytes after the header)");
  const size_t p = kTagHeaderSize + body_size;
  const uint32_t previous = (uint32_t{b[p]} << 24) | (uint32_t{b[p + 1]} << 16) | (uint32_t{b[p + 2]} << 8) | b[p + 3];
  if (previous != kTagHeaderSize + body_size)
    return make_error("FLV PreviousTagSize " + std::to_string(previous) + " does not match the tag size " +
                      std::to_string(kTagHeaderSize + body_size));
  return Tag{*header, b.subspan(kTagHeaderSize, body_size)};
}

}  // namespace anchorcast::flv
