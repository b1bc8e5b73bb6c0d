#include "relay/protocol/dcep/dcep_message.hpp"

#include <algorithm>

#include "relay/protocol/bits/byte_order.hpp"
#include "relay/protocol/bits/byte_writer.hpp"

namespace anchorcast::dcep {
namespace {

using bits::load_be16;
using bits::load_be32;

bool is_known_channel_type(uint8_t t) {
  switch (static_cast<ChannelType>(t)) {
    case ChannelType::reliable:
    case ChannelType::partial_reliable_rexmit:
    case ChannelType::partial_reliable_timed:
    case ChannelType::reliable_unordered:
    case ChannelType::partial_reliable_rexmit_unordered:
    case ChannelType::partial_reliable_timed_unordered:
      return true;
  }
  return false;
}

std::string_view as_text(std::span<const uint8_t> b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

}  // namespace

Result<uint8_t> message_type(std::span<const uint8_t> bytes) {
  if (bytes.empty()) return make_error("DCEP: empty message");
  return bytes[0];
}

Result<OpenMessage> parse_open(std::span<const uint8_t> bytes) {
  if (bytes.size() < kOpenHeaderSize) return make_error("DCEP: DATA_CHANNEL_OPEN shorter than its 12-byte header");
  if (bytes[0] != kMessageOpen) return make_error("DCEP: not a DATA_CHANNEL_OPEN");
  if (!is_known_channel_type(bytes[1])) return make_error("DCEP: unknown channel type");
  OpenMessage m;
  m.channel_type = static_cast<ChannelType>(bytes[1]);
  m.priority = load_be16(&bytes[2]);
  m.reliability_parameter = load_be32(&bytes[4]);
  const size_t label_size = load_be16(&bytes[8]);
  const size_t protocol_size = load_be16(&bytes[10]);
  // Both lengths are at most 65535: the sum cannot overflow size_t.
  if (kOpenHeaderSize + label_size + protocol_size != bytes.size())
    return make_error("DCEP: DATA_CHANNEL_OPEN label/protocol lengths do not match its size");
  m.label = as_text(bytes.subspan(kOpenHeaderSize, label_size));
  m.protocol = as_text(bytes.subspan(kOpenHeaderSize + label_size, protocol_size));
  return m;
}

Result<AckMessage> parse_ack(std::span<const uint8_t> bytes) {
  // RFC 8832 §5.2: one byte; tolerate nothing else, a longer ACK is not an ACK.
  if (bytes.size() != 1 || bytes[0] != kMessageAck) return make_error("DCEP: not a DATA_CHANNEL_ACK");
  return AckMessage{};
}

void append_open(const OpenMessage& message, std::vector<uint8_t>& out) {
  const size_t label_size = std::min<size_t>(message.label.size(), 0xFFFF);
  const size_t protocol_size = std::min<size_t>(message.protocol.size(), 0xFFFF);
  out.push_back(kMessageOpen);
  out.push_back(static_cast<uint8_t>(message.channel_type));
  bits::append_be16(out, message.priority);
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(message.reliability_parameter >> shift));
  bits::append_be16(out, static_cast<uint16_t>(label_size));
  bits::append_be16(out, static_cast<uint16_t>(protocol_size));
  out.insert(out.end(), message.label.begin(), message.label.begin() + static_cast<long>(label_size));
  out.insert(out.end(), message.protocol.begin(), message.protocol.begin() + static_cast<long>(protocol_size));
}

void append_ack(std::vector<uint8_t>& out) { out.push_back(kMessageAck); }

}  // namespace anchorcast::dcep
