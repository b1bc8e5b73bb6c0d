// Program Specific Information for a single-program TS (ITU-T H.222.0 §2.4.4): the
// program association section (PAT, §2.4.4.3) and the TS program map section (PMT,
// §2.4.4.8), each written as one whole 188-byte TS packet.
#pragma once

#include <cstdint>
#include <span>

namespace anchorcast::mpegts {

inline constexpr size_t kPacketSize = 188;
inline constexpr uint16_t kPatPid = 0x0000;

struct PmtStream {
  uint8_t stream_type = 0;  // Table 2-34: 0x1B H.264, 0x0F ADTS AAC, 0x15 metadata in PES
  uint16_t pid = 0;
  std::span<const uint8_t> es_info;  // descriptors of this stream (§2.6), whole
};

// The TS packet of a PAT that maps `program_number` to `pmt_pid`. `continuity_counter`
// is the 4-bit counter of PID 0 for this packet.
void write_pat_packet(uint16_t transport_stream_id, uint16_t program_number, uint16_t pmt_pid, uint8_t version,
                      uint8_t continuity_counter, std::span<uint8_t, kPacketSize> out);

// The TS packet of the PMT for `program_number` on `pmt_pid`, `program_info` being the
// program's descriptors (whole). The section must fit the packet: at most 8 streams,
// and streams (then program_info) that would overflow it are left out.
void write_pmt_packet(uint16_t pmt_pid, uint16_t program_number, uint8_t version, uint16_t pcr_pid,
                      std::span<const PmtStream> streams, uint8_t continuity_counter,
                      std::span<uint8_t, kPacketSize> out, std::span<const uint8_t> program_info = {});

}  // namespace anchorcast::mpegts
