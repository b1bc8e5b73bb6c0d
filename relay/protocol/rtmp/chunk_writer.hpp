// The sending half of the chunk stream (Adobe RTMP spec 1.0, section 5.3): a message
// becomes a fmt 0 chunk then fmt 3 continuations. The writer never copies a payload: it
// emits the small header bytes plus a list of pieces, each a slice of those header bytes
// or of one payload part, in wire order -- ready for scatter-gather writes (uv_write).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "relay/protocol/rtmp/message.hpp"

namespace anchorcast::rtmp {

struct ChunkHeaderFields {
  uint32_t csid = 3;  // 3..65599 (2 is reserved for protocol control, 0/1 for the forms)
  uint8_t type_id = 0;
  uint32_t stream_id = 0;
  uint32_t timestamp = 0;  // absolute, milliseconds
};

struct ChunkPiece {
  // kHeader: bytes [offset, offset+length) of the header buffer passed to frame();
  // otherwise the index of the payload part, and [offset, offset+length) within it.
  static constexpr uint32_t kHeader = 0xFFFFFFFF;
  uint32_t part = kHeader;
  uint32_t offset = 0;
  uint32_t length = 0;
};

class ChunkWriter {
 public:
  explicit ChunkWriter(uint32_t chunk_size = 128) : chunk_size_(chunk_size ? chunk_size : 1) {}

  // The outgoing chunk size; announce it with Set Chunk Size before the next message.
  void set_chunk_size(uint32_t size) { chunk_size_ = size ? size : 1; }
  uint32_t chunk_size() const { return chunk_size_; }

  // Frames one message whose payload is the concatenation of `parts` (e.g. an FLV tag
  // prefix and a shared packet payload). Appends header bytes to `headers` and pieces to
  // `pieces`; previously appended content is left alone, so several messages can be
  // framed into one batch. Pieces refer to `headers` by offset (it may reallocate).
  void frame(const ChunkHeaderFields& fields, std::span<const std::span<const uint8_t>> parts,
             std::vector<uint8_t>& headers, std::vector<ChunkPiece>& pieces) const;

  // Convenience for small messages (control, commands): appends the chunked bytes.
  void append(const ChunkHeaderFields& fields, std::span<const uint8_t> payload,
              std::vector<uint8_t>& out) const;
  void append(const Message& message, std::vector<uint8_t>& out) const;

 private:
  uint32_t chunk_size_;
};

}  // namespace anchorcast::rtmp
