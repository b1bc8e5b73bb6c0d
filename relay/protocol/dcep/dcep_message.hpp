// The Data Channel Establishment Protocol (RFC 8832): DATA_CHANNEL_OPEN and
// DATA_CHANNEL_ACK, carried on SCTP with PPID 50. Parsing is pure and bounded; the
// label and protocol are views into the input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "anchorcast/core/result.hpp"

namespace anchorcast::dcep {

// RFC 8831 §8: SCTP payload protocol identifiers of a WebRTC data channel.
inline constexpr uint32_t kPpidDcep = 50;
inline constexpr uint32_t kPpidString = 51;
inline constexpr uint32_t kPpidBinary = 53;
inline constexpr uint32_t kPpidStringEmpty = 56;
inline constexpr uint32_t kPpidBinaryEmpty = 57;

// RFC 8832 §8.2.1
inline constexpr uint8_t kMessageAck = 0x02;
inline constexpr uint8_t kMessageOpen = 0x03;

// RFC 8832 §8.2.2: the channel types; the high bit says unordered.
enum class ChannelType : uint8_t {
  reliable = 0x00,
  partial_reliable_rexmit = 0x01,
  partial_reliable_timed = 0x02,
  reliable_unordered = 0x80,
  partial_reliable_rexmit_unordered = 0x81,
  partial_reliable_timed_unordered = 0x82,
};

inline constexpr size_t kOpenHeaderSize = 12;

struct OpenMessage {
  ChannelType channel_type = ChannelType::reliable;
  uint16_t priority = 0;
  uint32_t reliability_parameter = 0;
  std::string_view label;
  std::string_view protocol;
};

struct AckMessage {};

// The first byte of a DCEP message, or an error for an empty one.
Result<uint8_t> message_type(std::span<const uint8_t> bytes);

// Fails when the message is not an OPEN, is shorter than its header, or its label and
// protocol lengths do not match the bytes that follow (RFC 8832 §5.1).
Result<OpenMessage> parse_open(std::span<const uint8_t> bytes);
Result<AckMessage> parse_ack(std::span<const uint8_t> bytes);

// Appends the message to `out`.
void append_open(const OpenMessage& message, std::vector<uint8_t>& out);
void append_ack(std::vector<uint8_t>& out);

}  // namespace anchorcast::dcep
