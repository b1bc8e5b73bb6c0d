// An FLV tag (Adobe FLV spec v10.1, Annex E.4.1): the 11-byte tag header, the body, and
// the 4-byte PreviousTagSize after it. RTMP audio/video messages carry the same bodies.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "anchorcast/core/result.hpp"

namespace anchorcast::flv {

inline constexpr size_t kTagHeaderSize = 11;
inline constexpr size_t kPreviousTagSizeSize = 4;
inline constexpr uint32_t kMaxTagDataSize = 0xFFFFFF;  // DataSize is UI24

enum class TagType : uint8_t { audio = 8, video = 9, script = 18 };

struct TagHeader {
  TagType type = TagType::video;
  bool filtered = false;  // encrypted (FLV 10.1 Filter bit); we never write it
  uint32_t data_size = 0;  // body bytes, UI24
  // Timestamp (UI24) + TimestampExtended (UI8, the upper byte) form an SI32 of ms.
  int32_t timestamp_ms = 0;
  uint32_t stream_id = 0;  // UI24, always 0
};

// Header of the tag at the start of `bytes`. Fails on a type other than 8, 9 or 18.
Result<TagHeader> parse_tag_header(std::span<const uint8_t> bytes);
std::array<uint8_t, kTagHeaderSize> serialize_tag_header(const TagHeader& header);
std::array<uint8_t, kPreviousTagSizeSize> serialize_previous_tag_size(uint32_t size);

// One whole tag: header, body (pointing into the input) and PreviousTagSize, which
// must equal 11 + data_size.
struct Tag {
  TagHeader header;
  std::span<const uint8_t> body;
  size_t size() const { return kTagHeaderSize + body.size() + kPreviousTagSizeSize; }
};

// The tag at the start of `bytes` (header + body + PreviousTagSize); fails when any of
// it is missing or inconsistent. Walk a file by advancing by Tag::size().
Result<Tag> parse_tag(std::span<const uint8_t> bytes);

}  // namespace anchorcast::flv
