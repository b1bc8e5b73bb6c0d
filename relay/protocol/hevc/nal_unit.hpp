// HEVC NAL units (ITU-T H.265 §7.3.1.2, §7.4.2.2): the 2-byte header, the types a relay
// acts on, and the walk over a length-prefixed access unit (hvcC framing, ISO/IEC
// 14496-15 §8.3.3.1 lengthSizeMinusOne, the same framing as AVCC).
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "anchorcast/core/result.hpp"
#include "relay/protocol/h264/nal_unit.hpp"

namespace anchorcast::hevc {

// Table 7-1. Types 16..23 are IRAP pictures; 0..31 are VCL.
enum class NalType : uint8_t {
  trail_n = 0,
  trail_r = 1,
  bla_w_lp = 16,
  bla_w_radl = 17,
  bla_n_lp = 18,
  idr_w_radl = 19,
  idr_n_lp = 20,
  cra = 21,
  vps = 32,
  sps = 33,
  pps = 34,
  aud = 35,
  end_of_sequence = 36,
  end_of_bitstream = 37,
  filler = 38,
  prefix_sei = 39,
  suffix_sei = 40,
};

struct NalHeader {
  NalType type = NalType::trail_n;
  uint8_t layer_id = 0;     // nuh_layer_id, 6 bits
  uint8_t temporal_id = 0;  // nuh_temporal_id_plus1 - 1
};

// The type from the first header byte alone, for a unit whose header is already known
// to be valid (parse_nal_header, for_each_nal).
inline NalType nal_type(uint8_t first_header_byte) {
  return static_cast<NalType>((first_header_byte >> 1) & 0x3F);
}
inline bool is_vcl(NalType type) { return static_cast<uint8_t>(type) <= 31; }
inline bool is_irap(NalType type) {
  const auto t = static_cast<uint8_t>(type);
  return t >= 16 && t <= 23;
}

// Fails when the unit is shorter than its header, forbidden_zero_bit is set, or
// nuh_temporal_id_plus1 is 0 (§7.4.2.2).
Result<NalHeader> parse_nal_header(std::span<const uint8_t> nal);

// Calls f(std::span<const uint8_t> nal) for each NAL unit of an access unit whose units
// sit behind big-endian lengths of `length_size` bytes (1, 2 or 4). Fails when a length
// runs past the end or a unit has no valid header; units visited before the error stay
// visited, none after it. Zero-length units are skipped.
template <class F>
Status for_each_nal(std::span<const uint8_t> au, int length_size, F&& f) {
  Status bad_header;
  size_t index = 0;
  Status walked = h264::for_each_avcc_nal(au, length_size, [&](std::span<const uint8_t> nal) {
    if (!bad_header) return;
    if (auto header = parse_nal_header(nal); !header)
      bad_header = make_error("HEVC NAL unit #" + std::to_string(index) + ": " + header.error().message);
    else
      f(nal);
    ++index;
  });
  return walked ? bad_header : walked;
}

// True when the access unit holds an IRAP picture (IDR, CRA or BLA slice): where a
// viewer can start decoding.
Result<bool> is_keyframe_access_unit(std::span<const uint8_t> au, int length_size);

}  // namespace anchorcast::hevc
