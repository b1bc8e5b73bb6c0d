// H.264 NAL units (ITU-T H.264 §7.3.1, §7.4.1): types, RBSP extraction, and safe
// splitting of the two framings we meet: length-prefixed (AVCC, ISO 14496-15 §5.3.4.2)
// and start-code delimited (Annex B).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "anchorcast/core/result.hpp"

namespace anchorcast::h264 {

enum class NalType : uint8_t {
  slice = 1,
  slice_partition_a = 2,
  idr = 5,
  sei = 6,
  sps = 7,
  pps = 8,
  aud = 9,
  end_of_sequence = 10,
  end_of_stream = 11,
  filler = 12,
  sps_extension = 13,
};

inline NalType nal_type(uint8_t header_byte) { return static_cast<NalType>(header_byte & 0x1F); }
inline bool is_vcl(NalType type) {
  auto t = static_cast<uint8_t>(type);
  return t >= 1 && t <= 5;
}

// The RBSP of a NAL unit (header byte kept): every emulation_prevention_three_byte
// (0x03 after two zero bytes, §7.4.1) removed, so bit readers see the syntax elements.
std::vector<uint8_t> nal_to_rbsp(std::span<const uint8_t> nal);

// Calls f(std::span<const uint8_t> nal) for each NAL unit of an AVCC access unit, where
// each unit sits behind a big-endian length of `length_size` bytes (1, 2 or 4). Stops
// and fails when a length runs past the end; zero-length units are skipped. Units
// already visited before the error stay visited.
template <class F>
Status for_each_avcc_nal(std::span<const uint8_t> au, int length_size, F&& f) {
  if (length_size != 1 && length_size != 2 && length_size != 4)
    return make_error("AVCC NAL length size " + std::to_string(length_size) +
                      " is invalid (ISO 14496-15 allows 1, 2 or 4)");
  size_t pos = 0;
  const size_t ls = static_cast<size_t>(length_size);
  while (pos < au.size()) {
    if (au.size() - pos < ls)
      return make_error("AVCC access unit ends inside a NAL length field at byte " +
                        std::to_string(pos));
    size_t len = 0;
    for (size_t i = 0; i < ls; ++i) len = (len << 8) | au[pos + i];
    pos += ls;
    if (len > au.size() - pos)
      return make_error("AVCC NAL unit at byte " + std::to_string(pos - ls) + " claims " +
                        std::to_string(len) + " bytes but only " +
                        std::to_string(au.size() - pos) + " remain");
    if (len > 0) f(au.subspan(pos, len));
    pos += len;
  }
  return {};
}

// Calls f(std::span<const uint8_t> nal) for each NAL unit of an Annex B byte stream
// (B.2): units are delimited by 0x000001 (or 0x00000001) start codes; trailing zero
// bytes before the next start code (trailing_zero_8bits) are not part of the unit.
// Bytes before the first start code are ignored. Never fails: any input splits.
template <class F>
void for_each_annexb_nal(std::span<const uint8_t> stream, F&& f) {
  const size_t n = stream.size();
  // Position just past the next start code at or after `from`, or n when none.
  auto next_start = [&](size_t from) -> size_t {
    for (size_t i = from; i + 3 <= n; ++i) {
      if (stream[i + 2] > 1) {
        i += 2;  // no start code can begin at i, i+1 or i+2
        continue;
      }
      if (stream[i] == 0 && stream[i + 1] == 0 && stream[i + 2] == 1) return i + 3;
    }
    return n;
  };
  size_t begin = next_start(0);
  while (begin < n) {
    size_t next = next_start(begin);
    size_t end = next == n ? n : next - 3;
    while (end > begin && stream[end - 1] == 0) --end;
    if (end > begin) f(stream.subspan(begin, end - begin));
    begin = next;
  }
}

}  // namespace anchorcast::h264
