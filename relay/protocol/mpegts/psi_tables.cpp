#include "relay/protocol/mpegts/psi_tables.hpp"

#include <algorithm>

#include "relay/protocol/mpegts/crc32.hpp"

namespace anchorcast::mpegts {
namespace {

// TS header with payload_unit_start_indicator set (a section starts here), payload only,
// then the pointer_field 0 (§2.4.4.2): the section starts right after it. Returns the
// offset of the section.
size_t write_psi_header(uint16_t pid, uint8_t cc, std::span<uint8_t, kPacketSize> out) {
  std::fill(out.begin(), out.end(), 0xFF);  // §2.4.4: bytes after the section are 0xFF
  out[0] = 0x47;
  out[1] = static_cast<uint8_t>(0x40 | ((pid >> 8) & 0x1F));
  out[2] = static_cast<uint8_t>(pid);
  out[3] = static_cast<uint8_t>(0x10 | (cc & 0x0F));
  out[4] = 0x00;
  return 5;
}

// The common long-form section header: table_id, section_syntax_indicator 1, '0',
// reserved '11', section_length; id (transport_stream_id / program_number); reserved
// '11', version_number, current_next_indicator 1; section_number 0, last 0.
size_t write_section_header(uint8_t table_id, size_t section_length, uint16_t id, uint8_t version, uint8_t* p) {
  p[0] = table_id;
  p[1] = static_cast<uint8_t>(0xB0 | ((section_length >> 8) & 0x0F));
  p[2] = static_cast<uint8_t>(section_length);
  p[3] = static_cast<uint8_t>(id >> 8);
  p[4] = static_cast<uint8_t>(id);
  p[5] = static_cast<uint8_t>(0xC1 | ((version & 0x1F) << 1));
  p[6] = 0;
  p[7] = 0;
  return 8;
}

void write_crc(uint8_t* section_start, size_t length_before_crc) {
  uint32_t crc = crc32_mpeg2(std::span<const uint8_t>(section_start, length_before_crc));
  uint8_t* p = section_start + length_before_crc;
  p[0] = static_cast<uint8_t>(crc >> 24);
  p[1] = static_cast<uint8_t>(crc >> 16);
  p[2] = static_cast<uint8_t>(crc >> 8);
  p[3] = static_cast<uint8_t>(crc);
}

}  // namespace

void write_pat_packet(uint16_t transport_stream_id, uint16_t program_number, uint16_t pmt_pid, uint8_t version,
                      uint8_t continuity_counter, std::span<uint8_t, kPacketSize> out) {
  uint8_t* s = out.data() + write_psi_header(kPatPid, continuity_counter, out);
  // section_length counts the bytes after it: 5 of header, 4 per program, 4 of CRC.
  size_t n = write_section_header(0x00, 5 + 4 + 4, transport_stream_id, version, s);
  s[n++] = static_cast<uint8_t>(program_number >> 8);
  s[n++] = static_cast<uint8_t>(program_number);
  s[n++] = static_cast<uint8_t>(0xE0 | ((pmt_pid >> 8) & 0x1F));
  s[n++] = static_cast<uint8_t>(pmt_pid);
  write_crc(s, n);
}

void write_pmt_packet(uint16_t pmt_pid, uint16_t program_number, uint8_t version, uint16_t pcr_pid,
                      std::span<const PmtStream> streams, uint8_t continuity_counter,
                      std::span<uint8_t, kPacketSize> out, std::span<const uint8_t> program_info) {
  if (streams.size() > 8) streams = streams.first(8);
  // Room for the section after the TS header and pointer_field: 8 of header, PCR_PID 2,
  // program_info_length 2, CRC 4, then descriptors and 5 + ES_info per stream.
  constexpr size_t kRoom = kPacketSize - 5 - 8 - 2 - 2 - 4;
  auto stream_bytes = [](const PmtStream& s) { return 5 + s.es_info.size(); };
  size_t used = program_info.size();
  if (used > kRoom) {
    program_info = {};
    used = 0;
  }
  size_t fitting = 0;
  for (; fitting < streams.size() && used + stream_bytes(streams[fitting]) <= kRoom; ++fitting)
    used += stream_bytes(streams[fitting]);
  streams = streams.first(fitting);
  uint8_t* s = out.data() + write_psi_header(pmt_pid, continuity_counter, out);
  // section_length: 5 of header, PCR_PID 2, program_info_length 2, descriptors, CRC 4.
  size_t n = write_section_header(0x02, 5 + 4 + used + 4, program_number, version, s);
  s[n++] = static_cast<uint8_t>(0xE0 | ((pcr_pid >> 8) & 0x1F));
  s[n++] = static_cast<uint8_t>(pcr_pid);
  s[n++] = static_cast<uint8_t>(0xF0 | ((program_info.size() >> 8) & 0x0F));  // reserved '1111'
  s[n++] = static_cast<uint8_t>(program_info.size());
  n = static_cast<size_t>(std::copy(program_info.begin(), program_info.end(), s + n) - s);
  for (const auto& stream : streams) {
    s[n++] = stream.stream_type;
    s[n++] = static_cast<uint8_t>(0xE0 | ((stream.pid >> 8) & 0x1F));
    s[n++] = static_cast<uint8_t>(stream.pid);
    s[n++] = static_cast<uint8_t>(0xF0 | ((stream.es_info.size() >> 8) & 0x0F));  // reserved '1111'
    s[n++] = static_cast<uint8_t>(stream.es_info.size());
    n = static_cast<size_t>(std::copy(stream.es_info.begin(), stream.es_info.end(), s + n) - s);
  }
  write_crc(s, n);
}

}  // namespace anchorcast::mpegts
