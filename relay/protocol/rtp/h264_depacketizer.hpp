// RTP payloads of H.264 (RFC 6184: single NAL unit, STAP-A, FU-A) back into AVCC access
// units with 4-byte lengths: for tests, fuzzing and the load generator. Packets must
// come in sequence order; a gap or a broken fragment drops the access unit in progress
// (counted) and output resumes at the next whole one. Bounded: an access unit larger
// than kMaxAccessUnitSize is dropped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "anchorcast/core/result.hpp"

namespace anchorcast::rtp {

struct AccessUnit {
  uint32_t timestamp = 0;
  bool keyframe = false;      // has an IDR slice
  std::vector<uint8_t> avcc;  // NAL units behind 4-byte big-endian lengths
};

class H264Depacketizer {
 public:
  static constexpr size_t kMaxAccessUnitSize = 8 * 1024 * 1024;

  // One packet's payload. Returns a completed access unit when this packet ends one
  // (marker bit), else nullopt; an error says why the packet (and the access unit in
  // progress) was dropped.
  Result<std::optional<AccessUnit>> push(std::span<const uint8_t> payload, uint16_t sequence, uint32_t timestamp,
                                         bool marker);

  uint64_t dropped_access_units() const { return dropped_; }

 private:
  Status append_nal(std::span<const uint8_t> nal);
  Status fail(Error error);

  AccessUnit current_;
  bool in_progress_ = false;
  bool broken_ = false;  // skip the rest of the access unit at broken_timestamp_
  uint32_t broken_timestamp_ = 0;
  uint32_t pending_timestamp_ = 0;  // of the packet being pushed
  bool in_fragment_ = false;
  size_t fragment_length_at_ = 0;  // where the open FU-A's length field sits in avcc
  std::optional<uint16_t> last_sequence_;
  uint64_t dropped_ = 0;
};

}  // namespace anchorcast::rtp
