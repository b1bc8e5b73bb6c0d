// A strict little MPEG-TS reader for tests: checks what a muxer must get right (sync
// bytes, continuity counters, PSI CRCs, PES headers) and hands back what it found.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

namespace anchorcast::fixtures {

struct InspectedPes {
  uint16_t pid = 0;
  uint8_t stream_id = 0;
  int64_t pts = -1;  // 33-bit 90 kHz values as written
  int64_t dts = -1;  // == pts when the header has no DTS
  bool random_access = false;  // random_access_indicator on its first TS packet
  bool has_pcr = false;
  int64_t pcr_base = -1;
  std::vector<uint8_t> payload;
};

struct InspectedTs {
  std::vector<std::string> errors;  // empty when every check passed
  size_t packets = 0;
  int pat_count = 0;
  int pmt_count = 0;
  uint16_t pmt_pid = 0;
  uint16_t pcr_pid = 0;
  std::map<uint16_t, uint8_t> stream_types;  // PID -> stream_type from the PMT
  std::vector<InspectedPes> pes;             // in order of their first TS packet
  std::vector<uint16_t> packet_pids;         // PID of every TS packet, in order
};

InspectedTs inspect_ts(std::span<const uint8_t> ts);

}  // namespace anchorcast::fixtures
