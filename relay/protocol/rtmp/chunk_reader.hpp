// The receiving half of the RTMP chunk stream (Adobe RTMP spec 1.0, section 5.3):
// bytes in any split, complete messages out. Set Chunk Size and Abort are applied here
// (and still handed to the caller); every header field is checked against the limits.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "anchorcast/core/result.hpp"
#include "relay/protocol/rtmp/message.hpp"

namespace anchorcast::rtmp {

struct ChunkReaderLimits {
  uint32_t max_chunk_size = 16 * 1024 * 1024;
  uint32_t max_message_length = 8 * 1024 * 1024;
  uint32_t max_partial_messages = 64;  // chunk streams with a message half received
  uint32_t max_chunk_streams = 256;    // chunk stream ids ever used on the connection
  // Sum of the declared lengths of half-received messages: what a peer can make us hold.
  size_t max_buffered_bytes = 32 * 1024 * 1024;
};

class ChunkReader {
 public:
  explicit ChunkReader(ChunkReaderLimits limits = {});

  // Consumes all of `in`, appending each message it completes to `out`. On error the
  // messages appended before it are valid; the reader stays failed (returns the same
  // error) from then on: the connection is beyond repair.
  Status feed(std::span<const uint8_t> in, std::vector<Message>& out);

  uint32_t chunk_size() const { return chunk_size_; }  // incoming, as set by the peer
  uint64_t bytes_consumed() const { return bytes_consumed_; }
  size_t buffered_bytes() const { return buffered_bytes_; }  // declared, see limits

 private:
  struct ChunkStream {
    uint32_t csid = 0;
    uint32_t timestamp = 0;  // of the current (or last) message
    uint32_t delta = 0;      // what a fmt 3 chunk starting a new message adds
    bool extended = false;   // the last fmt 0/1/2 header had an extended timestamp
    bool in_progress = false;
    uint32_t length = 0;
    uint8_t type_id = 0;
    uint32_t stream_id = 0;
    std::vector<uint8_t> payload;
  };

  Status fail(std::string message);
  // Bytes the header starting at p needs, judging from the `have` bytes there (a lower
  // bound until enough of it is known).
  size_t header_size(const uint8_t* p, size_t have) const;
  Status process_header(const uint8_t* p);
  Status complete_message(ChunkStream& cs, std::vector<Message>& out);
  ChunkStream* find(uint32_t csid);
  const ChunkStream* find(uint32_t csid) const;

  ChunkReaderLimits limits_;
  uint32_t chunk_size_ = 128;  // 5.4.1: the default until Set Chunk Size
  uint64_t bytes_consumed_ = 0;
  size_t buffered_bytes_ = 0;
  uint32_t partial_messages_ = 0;
  std::vector<ChunkStream> streams_;
  size_t last_ = 0;  // index of the last chunk stream used: the common case is a repeat

  // A chunk header split across feed() calls (at most 3 + 11 + 4 bytes).
  uint8_t header_[18] = {};
  size_t header_have_ = 0;
  // The chunk whose payload is being read; nullptr while reading a header.
  ChunkStream* current_ = nullptr;
  uint32_t chunk_left_ = 0;

  bool failed_ = false;
  std::string error_;
};

}  // namespace anchorcast::rtmp
