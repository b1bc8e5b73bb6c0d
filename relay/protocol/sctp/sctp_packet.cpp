#include "relay/protocol/sctp/sctp_packet.hpp"

#include <array>

#include "relay/protocol/bits/byte_order.hpp"

namespace anchorcast::sctp {
namespace {

using bits::load_be16;
using bits::load_be32;

constexpr uint8_t kShutdownComplete = 14;

constexpr std::array<uint32_t, 256> make_crc32c_table() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;  // reflected Castagnoli
    table[i] = c;
  }
  return table;
}

constexpr std::array<uint32_t, 256> kCrc32cTable = make_crc32c_table();

bool must_be_alone(uint8_t type) {
  return type == chunk::kInit || type == chunk::kInitAck || type == kShutdownComplete;
}

}  // namespace

uint32_t crc32c(std::span<const uint8_t> bytes, bool zero_checksum_field) {
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < bytes.size(); ++i) {
    const uint8_t b = zero_checksum_field && i >= 8 && i < 12 ? 0 : bytes[i];
    c = kCrc32cTable[(c ^ b) & 0xFF] ^ (c >> 8);
  }
  return ~c;
}

void write_checksum(std::span<uint8_t> packet) {
  if (packet.size() < kCommonHeaderSize) return;
  const uint32_t c = crc32c(packet, true);
  // RFC 9260 Appendix A: the CRC goes on the wire least significant byte first.
  for (int i = 0; i < 4; ++i) packet[8 + i] = static_cast<uint8_t>(c >> (8 * i));
}

Result<PacketSummary> check_packet(std::span<const uint8_t> bytes) {
  if (bytes.size() < kCommonHeaderSize + kChunkHeaderSize) return make_error("SCTP: packet shorter than a header and a chunk");
  if (bytes.size() > kMaxPacketSize) return make_error("SCTP: packet larger than a DTLS record");
  PacketSummary s;
  s.header.source_port = load_be16(&bytes[0]);
  s.header.destination_port = load_be16(&bytes[2]);
  s.header.verification_tag = load_be32(&bytes[4]);
  s.header.checksum = uint32_t(bytes[8]) | uint32_t(bytes[9]) << 8 | uint32_t(bytes[10]) << 16 | uint32_t(bytes[11]) << 24;
  if (s.header.source_port == 0 || s.header.destination_port == 0) return make_error("SCTP: port 0");
  if (crc32c(bytes, true) != s.header.checksum) return make_error("SCTP: bad CRC32c checksum");

  size_t at = kCommonHeaderSize;
  while (at < bytes.size()) {
    if (bytes.size() - at < kChunkHeaderSize) return make_error("SCTP: trailing bytes shorter than a chunk header");
    const uint8_t type = bytes[at];
    const size_t length = load_be16(&bytes[at + 2]);
    if (length < kChunkHeaderSize) return make_error("SCTP: chunk length below 4");
    if (length > bytes.size() - at) return make_error("SCTP: chunk runs past the packet");
    if (s.chunks == 0) s.first_chunk_type = type;
    ++s.chunks;
    if (must_be_alone(type) && (s.chunks > 1 || at != kCommonHeaderSize))
      return make_error("SCTP: INIT, INIT ACK or SHUTDOWN COMPLETE bundled with other chunks");
    const size_t padded = (length + 3) & ~size_t{3};
    // The last chunk's padding may be missing (RFC 9260 §3.2: no padding after it is
    // tolerated by implementations); anything else must tile the packet exactly.
    at = padded > bytes.size() - at ? bytes.size() : at + padded;
  }
  if (s.chunks > 1 && must_be_alone(s.first_chunk_type))
    return make_error("SCTP: INIT, INIT ACK or SHUTDOWN COMPLETE bundled with other chunks");
  return s;
}

}  // namespace anchorcast::sctp
