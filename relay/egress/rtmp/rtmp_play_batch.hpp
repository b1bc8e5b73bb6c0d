// One scatter-gather write of RTMP play output: chunk headers, FLV tag prefixes and small
// messages live in one owned buffer; packet payloads are referenced, never copied, and
// kept alive by the batch until the write completes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "anchorcast/media/packet.hpp"
#include "relay/protocol/rtmp/chunk_writer.hpp"

namespace anchorcast {

class RtmpPlayBatch {
 public:
  // Copies a small message (metadata, sequence headers, control) into the batch.
  void add_message(const rtmp::ChunkWriter& writer, const rtmp::Message& message);
  // An FLV tag body made of `prefix` (copied) and the packet's payload (referenced).
  void add_media(const rtmp::ChunkWriter& writer, const rtmp::ChunkHeaderFields& fields,
                 std::span<const uint8_t> prefix, PacketPtr packet);

  bool empty() const { return refs_.empty(); }
  size_t size_bytes() const { return size_bytes_; }
  size_t packet_count() const { return packets_.size(); }
  // The bytes to write, in order. Valid until the batch changes or is destroyed.
  std::vector<std::span<const uint8_t>> spans() const;
  void clear();

 private:
  struct Ref {
    const uint8_t* data;  // nullptr: bytes of owned_ at `offset`
    size_t offset;
    size_t length;
  };
  void add_owned(size_t offset, size_t length);

  std::vector<uint8_t> owned_;
  std::vector<Ref> refs_;
  std::vector<PacketPtr> packets_;
  std::vector<rtmp::ChunkPiece> pieces_;  // scratch, reused
  size_t size_bytes_ = 0;
};

}  // namespace anchorcast
