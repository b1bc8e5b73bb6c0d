// One media packet's FLV tag, framed once for every HTTP-FLV viewer of a loop: the tag
// header and AVC/AAC prefix (for HEVC the Enhanced RTMP ExVideoTagHeader) before the
// shared payload, the PreviousTagSize after it. The bytes depend only on the packet
// (FLV timestamps are the hub's timeline, the same for every viewer), so viewers that
// write the same packet share one FramedTag, the way RTMP players share a FramedMessage.
// `FramedTagCache` keeps the newest of one loop; a viewer that missed (it lags) frames
// its own, byte for byte the same.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "anchorcast/media/packet.hpp"

namespace anchorcast {

// FLV timestamps are 32 bits of ms (SI32 split UI24 + UI8): the packet's dts on the hub's
// timeline. Past 24.8 days they wrap, as every RTMP/FLV server's do.
inline uint32_t flv_timestamp_ms(const Packet& packet) { return static_cast<uint32_t>(packet.dts_in(kMillis)); }

struct FramedTag {
  // Tag header + the longest prefix: HEVC CodedFrames' 8 bytes (AVC's is 5, AAC's 2).
  static constexpr size_t kMaxHead = 11 + 8;
  PacketPtr packet;                  // keeps the payload alive
  std::array<uint8_t, kMaxHead> head{};
  size_t head_size = 0;
  std::array<uint8_t, 4> previous_tag_size{};

  std::span<const uint8_t> head_bytes() const { return {head.data(), head_size}; }
  size_t size_bytes() const { return head_size + packet->bytes().size() + previous_tag_size.size(); }

  // Null when the packet cannot be framed: not H.264/HEVC/AAC, or over FLV's 16 MiB tag size.
  static std::shared_ptr<const FramedTag> build(PacketPtr packet);
};

using FramedTagPtr = std::shared_ptr<const FramedTag>;

class FramedTagCache {
 public:
  // The framed tag of `packet`: the cached one when a viewer of this loop already framed
  // it, else built now (null as FramedTag::build).
  FramedTagPtr get(const PacketPtr& packet);
  uint64_t hits() const { return hits_; }
  uint64_t misses() const { return misses_; }

 private:
  // Viewers of a loop drain within one pass of each other: the hit is nearly always among
  // the newest few.
  static constexpr size_t kSlots = 64;
  std::array<FramedTagPtr, kSlots> slots_{};
  size_t newest_ = 0;
  uint64_t hits_ = 0;
  uint64_t misses_ = 0;
};

}  // namespace anchorcast
