#include "relay/protocol/mpegts/pes_header.hpp"

namespace anchorcast::mpegts {
namespace {

// §2.4.3.7: 4-bit prefix, TS[32..30], marker, TS[29..15], marker, TS[14..0], marker.
void write_timestamp(uint8_t prefix, int64_t ts_90khz, uint8_t* p) {
  const uint64_t ts = to_33_bits(ts_90khz);
  p[0] = static_cast<uint8_t>((prefix << 4) | ((ts >> 29) & 0x0E) | 0x01);
  p[1] = static_cast<uint8_t>(ts >> 22);
  p[2] = static_cast<uint8_t>(((ts >> 14) & 0xFE) | 0x01);
  p[3] = static_cast<uint8_t>(ts >> 7);
  p[4] = static_cast<uint8_t>(((ts << 1) & 0xFE) | 0x01);
}

}  // namespace

size_t write_pes_header(uint8_t stream_id, int64_t pts_90khz, int64_t dts_90khz, size_t payload_size, bool unbounded,
                        std::span<uint8_t, kMaxPesHeaderSize> out) {
  const bool with_dts = dts_90khz != pts_90khz;
  const size_t header_data_length = with_dts ? 10 : 5;
  const size_t header_size = 9 + header_data_length;
  // PES_packet_length counts the bytes after it.
  const size_t packet_length = 3 + header_data_length + payload_size;
  const size_t length_field = unbounded || packet_length > 0xFFFF ? 0 : packet_length;
  out[0] = 0x00;
  out[1] = 0x00;
  out[2] = 0x01;
  out[3] = stream_id;
  out[4] = static_cast<uint8_t>(length_field >> 8);
  out[5] = static_cast<uint8_t>(length_field);
  // '10', not scrambled, no priority, data_alignment_indicator 1 (the PES starts with an
  // access unit: AUD for video, ADTS sync for audio), not copyrighted, copy.
  out[6] = 0x84;
  out[7] = with_dts ? 0xC0 : 0x80;  // PTS_DTS_flags '11' or '10', no other optional fields
  out[8] = static_cast<uint8_t>(header_data_length);
  write_timestamp(with_dts ? 0x3 : 0x2, pts_90khz, &out[9]);
  if (with_dts) write_timestamp(0x1, dts_90khz, &out[14]);
  return header_size;
}

}  // namespace anchorcast::mpegts
