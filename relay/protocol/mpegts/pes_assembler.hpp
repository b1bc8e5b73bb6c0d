// PES packets (ITU-T H.222.0 §2.4.3.6) reassembled from the TS packet payloads of one
// PID. Pure and bounded: a PES longer than the cap, or with a header that does not
// parse, is dropped and counted; the assembler then waits for the next
// payload_unit_start_indicator. Continuity is the caller's business (it sees the TS
// headers): on a continuity error it calls abort().
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace anchorcast {

struct PesPacket {
  uint8_t stream_id = 0;
  bool has_pts = false;
  bool has_dts = false;
  uint64_t pts = 0;  // 33-bit, 90 kHz, as sent (not unwrapped)
  uint64_t dts = 0;  // == pts when the PES has no DTS
  std::vector<uint8_t> payload;  // the elementary stream bytes, PES header removed
  // Input byte offset just past the last TS packet that carried bytes of this PES:
  // the moment its data was complete, for latency accounting.
  uint64_t last_byte_offset = 0;
};

struct PesAssemblerStats {
  uint64_t completed = 0;
  uint64_t dropped = 0;        // aborted, bad header, truncated or over the cap
  uint64_t oversized = 0;      // of `dropped`: grew past max_bytes
  uint64_t header_errors = 0;  // of `dropped`: no start code, bad marker bits, lengths
};

class PesAssembler {
 public:
  explicit PesAssembler(size_t max_bytes) : max_bytes_(max_bytes) {}

  // The payload of one TS packet of this PID (adaptation field already skipped).
  // `packet_end_offset` is the input offset just past that TS packet. Completed PES
  // packets are appended to `done` (up to two: the one a unit start ends, and a
  // bounded one the packet itself completes).
  void push(std::span<const uint8_t> payload, bool unit_start, uint64_t packet_end_offset,
            std::vector<PesPacket>& done);
  // End of input: an unbounded PES in progress (PES_packet_length 0, as video usually
  // is) is complete now.
  void flush(std::vector<PesPacket>& done);
  // Drops the PES in progress (counted when there was one) and waits for a unit start.
  void abort();
  bool in_progress() const { return state_ != State::idle; }
  const PesAssemblerStats& stats() const { return stats_; }

 private:
  enum class State { idle, collecting };
  void finish(std::vector<PesPacket>& done);
  bool parse_header();  // false: drop
  void drop(bool header_error);

  size_t max_bytes_;
  State state_ = State::idle;
  std::vector<uint8_t> buffer_;  // the whole PES so far, header included
  bool header_parsed_ = false;
  size_t header_size_ = 0;
  size_t declared_size_ = 0;  // 6 + PES_packet_length, 0 when unbounded
  uint64_t last_byte_offset_ = 0;
  PesPacket current_;
  PesAssemblerStats stats_;
};

}  // namespace anchorcast
