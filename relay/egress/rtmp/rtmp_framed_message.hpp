// One RTMP message in its chunked form (spec 5.3), built once and written to every player
// that gets it: FLV tag prefix and chunk headers in `owned`, the packet's payload
// referenced, never copied. The form depends only on the packet, the message stream id
// and the chunk size (fmt 0 then fmt 3 chunks, no per-peer header compression), so all
// players of a loop with the same two share it. `FramedMessageCache` keeps the newest
// forms of one loop; a player that missed (it lags, or uses another chunk size) frames
// its own, byte for byte the same.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "anchorcast/media/packet.hpp"
#include "relay/protocol/rtmp/chunk_writer.hpp"

namespace anchorcast {

struct FramedMessage {
  struct Ref {
    bool payload;  // a slice of packet->bytes(), else of owned
    uint32_t offset;
    uint32_t length;
  };
  PacketPtr packet;            // keeps the payload alive
  std::vector<uint8_t> owned;  // prefix, then chunk headers
  std::vector<Ref> refs;       // the message on the wire, in order
  size_t size_bytes = 0;

  // An FLV tag body made of `prefix` (copied) and the packet's payload, chunked.
  static std::shared_ptr<const FramedMessage> build(const rtmp::ChunkWriter& writer,
                                                    const rtmp::ChunkHeaderFields& fields,
                                                    std::span<const uint8_t> prefix, PacketPtr packet);
};

using FramedMessagePtr = std::shared_ptr<const FramedMessage>;

class FramedMessageCache {
 public:
  // The form of `packet` (with `fields` and `prefix` derived from it) for `writer`'s chunk
  // size: the cached one when a player of this loop already framed it, else built now.
  FramedMessagePtr get(const rtmp::ChunkWriter& writer, const rtmp::ChunkHeaderFields& fields,
                       std::span<const uint8_t> prefix, const PacketPtr& packet);
  uint64_t hits() const { return hits_; }
  uint64_t misses() const { return misses_; }

 private:
  // Players of a loop drain within one pass of each other, so the hit is nearly always
  // among the newest few; a player further behind than this frames its own.
  static constexpr size_t kSlots = 64;
  struct Slot {
    const Packet* packet = nullptr;
    uint32_t chunk_size = 0;
    uint32_t stream_id = 0;
    uint32_t csid = 0;
    FramedMessagePtr framed;
  };
  std::array<Slot, kSlots> slots_{};
  size_t newest_ = 0;
  uint64_t hits_ = 0;
  uint64_t misses_ = 0;
};

}  // namespace anchorcast
