#include "relay/protocol/rtmp/chunk_writer.hpp"

#include <algorithm>

#include "relay/protocol/bits/byte_writer.hpp"

namespace anchorcast::rtmp {

namespace {

constexpr uint32_t kExtendedMarker = 0xFFFFFF;  // 5.3.1.3

void put_basic_header(std::vector<uint8_t>& out, unsigned fmt, uint32_t csid) {
  // 5.3.1.1: the shortest of the three forms that holds the id.
  uint8_t top = static_cast<uint8_t>(fmt << 6);
  if (csid >= 2 && csid <= 63) {
    out.push_back(static_cast<uint8_t>(top | csid));
  } else if (csid >= 64 && csid <= 319) {
    out.push_back(top);
    out.push_back(static_cast<uint8_t>(csid - 64));
  } else {
    uint32_t v = csid - 64;
    out.push_back(static_cast<uint8_t>(top | 1));
    out.push_back(static_cast<uint8_t>(v & 0xFF));
    out.push_back(static_cast<uint8_t>(v >> 8));
  }
}

}  // namespace

void ChunkWriter::frame(const ChunkHeaderFields& f, std::span<const std::span<const uint8_t>> parts,
                        std::vector<uint8_t>& headers, std::vector<ChunkPiece>& pieces) const {
  size_t total = 0;
  for (auto part : parts) total += part.size();
  // Message length is 24 bits (5.3.1.2.1); callers never build larger messages.
  uint32_t length = static_cast<uint32_t>(std::min<size_t>(total, 0xFFFFFF));
  bool extended = f.timestamp >= kExtendedMarker;

  auto header_piece = [&](size_t start) {
    pieces.push_back(ChunkPiece{ChunkPiece::kHeader, static_cast<uint32_t>(start),
                                static_cast<uint32_t>(headers.size() - start)});
  };

  // fmt 0 for the first chunk: every message stands alone, so a viewer joining or a
  // skipped packet never leaves the peer with a wrong delta.
  size_t start = headers.size();
  put_basic_header(headers, 0, f.csid);
  bits::append_be24(headers, extended ? kExtendedMarker : f.timestamp);
  bits::append_be24(headers, length);
  headers.push_back(f.type_id);
  for (int s = 0; s < 32; s += 8) headers.push_back(static_cast<uint8_t>(f.stream_id >> s));  // LE
  if (extended) bits::append_be32(headers, f.timestamp);
  header_piece(start);

  uint32_t left_in_chunk = chunk_size_;
  uint32_t written = 0;
  for (size_t i = 0; i < parts.size() && written < length; ++i) {
    size_t off = 0;
    while (off < parts[i].size() && written < length) {
      if (left_in_chunk == 0) {
        // 5.3.1.2.4 fmt 3 continuation; 5.3.1.3: it repeats the extended timestamp.
        start = headers.size();
        put_basic_header(headers, 3, f.csid);
        if (extended) bits::append_be32(headers, f.timestamp);
        header_piece(start);
        left_in_chunk = chunk_size_;
      }
      uint32_t n = static_cast<uint32_t>(
          std::min<size_t>({left_in_chunk, parts[i].size() - off, static_cast<size_t>(length - written)}));
      pieces.push_back(ChunkPiece{static_cast<uint32_t>(i), static_cast<uint32_t>(off), n});
      off += n;
      written += n;
      left_in_chunk -= n;
    }
  }
}

void ChunkWriter::append(const ChunkHeaderFields& fields, std::span<const uint8_t> payload,
                         std::vector<uint8_t>& out) const {
  std::vector<uint8_t> headers;
  std::vector<ChunkPiece> pieces;
  std::span<const uint8_t> parts[1] = {payload};
  frame(fields, parts, headers, pieces);
  for (const auto& piece : pieces) {
    const uint8_t* base = piece.part == ChunkPiece::kHeader ? headers.data() : payload.data();
    out.insert(out.end(), base + piece.offset, base + piece.offset + piece.length);
  }
}

void ChunkWriter::append(const Message& m, std::vector<uint8_t>& out) const {
  append(ChunkHeaderFields{m.csid, m.type_id, m.stream_id, m.timestamp}, m.payload, out);
}

}  // namespace anchorcast::rtmp
