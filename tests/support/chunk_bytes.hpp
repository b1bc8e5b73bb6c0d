// Hand-built chunk bytes for reader tests: exactly what the spec's examples show
// (Adobe RTMP spec 1.0, 5.3.2), independent of our ChunkWriter.
#pragma once

#include <cstdint>
#include <vector>

#include "relay/protocol/bits/byte_writer.hpp"

namespace anchorcast::rtmp::test {

inline void basic_header(std::vector<uint8_t>& out, unsigned fmt, uint32_t csid) {
  if (csid < 64) {
    out.push_back(static_cast<uint8_t>(fmt << 6 | csid));
  } else if (csid < 320) {
    out.push_back(static_cast<uint8_t>(fmt << 6));
    out.push_back(static_cast<uint8_t>(csid - 64));
  } else {
    out.push_back(static_cast<uint8_t>(fmt << 6 | 1));
    out.push_back(static_cast<uint8_t>((csid - 64) & 0xFF));
    out.push_back(static_cast<uint8_t>((csid - 64) >> 8));
  }
}

// ts_field is the 24-bit field; pass 0xFFFFFF and `ext` for an extended timestamp.
inline void fmt0(std::vector<uint8_t>& out, uint32_t csid, uint32_t ts_field, uint32_t length, uint8_t type,
                 uint32_t stream_id, int64_t ext = -1) {
  basic_header(out, 0, csid);
  bits::append_be24(out, ts_field);
  bits::append_be24(out, length);
  out.push_back(type);
  for (int s = 0; s < 32; s += 8) out.push_back(static_cast<uint8_t>(stream_id >> s));
  if (ext >= 0) bits::append_be32(out, static_cast<uint32_t>(ext));
}

inline void fmt1(std::vector<uint8_t>& out, uint32_t csid, uint32_t delta_field, uint32_t length, uint8_t type,
                 int64_t ext = -1) {
  basic_header(out, 1, csid);
  bits::append_be24(out, delta_field);
  bits::append_be24(out, length);
  out.push_back(type);
  if (ext >= 0) bits::append_be32(out, static_cast<uint32_t>(ext));
}

inline void fmt2(std::vector<uint8_t>& out, uint32_t csid, uint32_t delta_field, int64_t ext = -1) {
  basic_header(out, 2, csid);
  bits::append_be24(out, delta_field);
  if (ext >= 0) bits::append_be32(out, static_cast<uint32_t>(ext));
}

inline void fmt3(std::vector<uint8_t>& out, uint32_t csid, int64_t ext = -1) {
  basic_header(out, 3, csid);
  if (ext >= 0) bits::append_be32(out, static_cast<uint32_t>(ext));
}

inline void bytes(std::vector<uint8_t>& out, size_t n, uint8_t first = 0) {
  for (size_t i = 0; i < n; ++i) out.push_back(static_cast<uint8_t>(first + i));
}

inline std::vector<uint8_t> pattern(size_t n, uint8_t first = 0) {
  std::vector<uint8_t> v;
  bytes(v, n, first);
  return v;
}

// A Set Chunk Size message on chunk stream 2 (5.4.1).
inline void set_chunk_size(std::vector<uint8_t>& out, uint32_t size) {
  fmt0(out, 2, 0, 4, 1, 0);
  bits::append_be32(out, size);
}

}  // namespace anchorcast::rtmp::test
