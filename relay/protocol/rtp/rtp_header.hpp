// The RTP fixed header (RFC 3550 §5.1) with CSRCs, a header extension (§5.3.1) and
// padding: parsed bounded from a datagram, written into a caller's buffer.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "anchorcast/core/result.hpp"

namespace anchorcast::rtp {

inline constexpr size_t kFixedHeaderSize = 12;

struct RtpHeader {
  bool marker = false;
  uint8_t payload_type = 0;
  uint16_t sequence = 0;
  uint32_t timestamp = 0;
  uint32_t ssrc = 0;
  uint8_t csrc_count = 0;
  std::array<uint32_t, 15> csrcs{};
  bool has_extension = false;
  uint16_t extension_profile = 0;          // 0xBEDE: one-byte form (RFC 8285)
  std::span<const uint8_t> extension;      // the extension words, after its 4-byte header
};

struct RtpPacketView {
  RtpHeader header;
  size_t header_size = 0;   // fixed header + CSRCs + extension
  size_t padding_size = 0;  // trailing padding, count byte included
  std::span<const uint8_t> payload;
};

// Fails on a version other than 2, a CSRC list, extension or padding count running past
// the datagram, or padding larger than the payload.
Result<RtpPacketView> parse_rtp(std::span<const uint8_t> datagram);

// The header's bytes as they go on the wire (no padding bit), written at the start of
// `out`: 12 bytes + 4 per CSRC + the extension (which must be whole 32-bit words).
// Returns the size written, or an error when `out` is too small.
Result<size_t> write_rtp_header(const RtpHeader& header, std::span<uint8_t> out);

// The 12-byte fixed header only: what the packetizer writes for every packet.
void write_fixed_header(std::span<uint8_t, kFixedHeaderSize> out, bool marker, uint8_t payload_type,
                        uint16_t sequence, uint32_t timestamp, uint32_t ssrc);

}  // namespace anchorcast::rtp
