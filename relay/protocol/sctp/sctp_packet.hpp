// The framing of an SCTP packet (RFC 9260 §3): the common header, the CRC32c checksum
// (Appendix A) and the chunk list. usrsctp does the protocol; this checks what a viewer
// sent before it reaches usrsctp, so malformed packets are counted, and it is the part
// a fuzzer can reach. Pure and bounded; chunk values are views into the input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "anchorcast/core/result.hpp"

namespace anchorcast::sctp {

inline constexpr size_t kCommonHeaderSize = 12;
inline constexpr size_t kChunkHeaderSize = 4;
// Over DTLS an SCTP packet is one DTLS record: at most 2^14 bytes of plaintext.
inline constexpr size_t kMaxPacketSize = 16384;

namespace chunk {
inline constexpr uint8_t kData = 0;
inline constexpr uint8_t kInit = 1;
inline constexpr uint8_t kInitAck = 2;
inline constexpr uint8_t kSack = 3;
inline constexpr uint8_t kHeartbeat = 4;
inline constexpr uint8_t kHeartbeatAck = 5;
inline constexpr uint8_t kAbort = 6;
inline constexpr uint8_t kShutdown = 7;
inline constexpr uint8_t kCookieEcho = 10;
inline constexpr uint8_t kCookieAck = 11;
}  // namespace chunk

struct CommonHeader {
  uint16_t source_port = 0;
  uint16_t destination_port = 0;
  uint32_t verification_tag = 0;
  uint32_t checksum = 0;  // as sent (little-endian CRC32c value, RFC 9260 Appendix A)
};

struct PacketSummary {
  CommonHeader header;
  size_t chunks = 0;
  uint8_t first_chunk_type = 0;
};

// CRC32c (Castagnoli) of `bytes`, the checksum field taken as zero when
// `zero_checksum_field` (bytes 8..11 of a packet).
uint32_t crc32c(std::span<const uint8_t> bytes, bool zero_checksum_field = false);

// Checks the header, the checksum, and that the chunks tile the packet exactly (every
// chunk length ≥ 4 and within the packet, padded to 4 bytes; RFC 9260 §3.2), with at
// least one chunk. INIT, INIT ACK and SHUTDOWN COMPLETE must be alone (§6.10).
Result<PacketSummary> check_packet(std::span<const uint8_t> bytes);

// Overwrites bytes 8..11 with the packet's CRC32c (for tests and for our own packets).
void write_checksum(std::span<uint8_t> packet);

}  // namespace anchorcast::sctp
