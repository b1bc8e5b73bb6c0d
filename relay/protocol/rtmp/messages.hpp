// RTMP message types and the messages a server sends and parses: protocol control
// (Adobe RTMP spec 1.0, 5.4), user control (6.2, 7.1.7), commands and data (7.1.1,
// 7.1.2, 7.2). Builders return a Message ready for the ChunkWriter; parsers check every
// length.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "anchorcast/core/result.hpp"
#include "relay/protocol/rtmp/amf0.hpp"
#include "relay/protocol/rtmp/message.hpp"

namespace anchorcast::rtmp {

// Message type ids (5.4, 7.1).
namespace msg {
inline constexpr uint8_t kSetChunkSize = 1;
inline constexpr uint8_t kAbort = 2;
inline constexpr uint8_t kAcknowledgement = 3;
inline constexpr uint8_t kUserControl = 4;
inline constexpr uint8_t kWindowAckSize = 5;
inline constexpr uint8_t kSetPeerBandwidth = 6;
inline constexpr uint8_t kAudio = 8;
inline constexpr uint8_t kVideo = 9;
inline constexpr uint8_t kDataAmf3 = 15;
inline constexpr uint8_t kSharedObjectAmf3 = 16;
inline constexpr uint8_t kCommandAmf3 = 17;
inline constexpr uint8_t kDataAmf0 = 18;
inline constexpr uint8_t kSharedObjectAmf0 = 19;
inline constexpr uint8_t kCommandAmf0 = 20;
inline constexpr uint8_t kAggregate = 22;
}  // namespace msg

// Chunk stream ids this server sends on. 2 is reserved for protocol control (5.4);
// the rest follow what ffmpeg and SRS use, which players are used to.
namespace csid {
inline constexpr uint32_t kControl = 2;
inline constexpr uint32_t kCommand = 3;
inline constexpr uint32_t kStreamCommand = 5;  // onStatus, metadata on a message stream
inline constexpr uint32_t kAudio = 4;
inline constexpr uint32_t kVideo = 6;
}  // namespace csid

// 6.2 / 7.1.7 User Control event types.
enum class UserControlEvent : uint16_t {
  stream_begin = 0,
  stream_eof = 1,
  stream_dry = 2,
  set_buffer_length = 3,
  stream_is_recorded = 4,
  ping_request = 6,
  ping_response = 7,
};

struct UserControl {
  UserControlEvent event = UserControlEvent::stream_begin;
  uint32_t value = 0;        // stream id, or the ping timestamp
  uint32_t buffer_ms = 0;    // set_buffer_length only
};

enum class PeerBandwidthLimit : uint8_t { hard = 0, soft = 1, dynamic = 2 };  // 5.4.5

// Protocol control builders (stream 0, chunk stream 2).
Message make_set_chunk_size(uint32_t size);
Message make_abort(uint32_t csid_to_abort);
Message make_acknowledgement(uint32_t sequence_number);
Message make_window_ack_size(uint32_t window);
Message make_set_peer_bandwidth(uint32_t window, PeerBandwidthLimit limit);
Message make_user_control(UserControlEvent event, uint32_t value);
Message make_set_buffer_length(uint32_t stream_id, uint32_t buffer_ms);

// The 4-byte big-endian value of Set Chunk Size, Abort, Acknowledgement, Window Ack Size.
Result<uint32_t> parse_u32_control(const Message& m);
Result<UserControl> parse_user_control(const Message& m);

// 7.1.1 / 7.2: a command is name, transaction id, command object, then arguments.
struct Command {
  std::string name;
  double transaction_id = 0;
  Amf0Value object;               // null when absent
  std::vector<Amf0Value> args;    // after the command object
};

// Parses an AMF0 command (type 20) or an AMF3 command (type 17) whose body is AMF0
// behind a leading 0x00 (how Flash sends commands once it switched to AMF3).
Result<Command> parse_command(const Message& m, const Amf0Limits& limits = {});

// A data message (type 18, or 15 with the AMF3 lead byte): name then values.
// "@setDataFrame" is unwrapped: {name: "onMetaData", values: [metadata]}.
struct DataMessage {
  std::string name;
  std::vector<Amf0Value> values;
};
Result<DataMessage> parse_data(const Message& m, const Amf0Limits& limits = {});

Message make_command(uint32_t stream_id, std::string_view name, double transaction_id,
                     const Amf0Value& object, std::span<const Amf0Value> args = {});
// "_result" / "_error" replying to `transaction_id`.
Message make_command_result(uint32_t stream_id, double transaction_id, const Amf0Value& properties,
                    const Amf0Value& information);
Message make_command_error(uint32_t stream_id, double transaction_id, const Amf0Value& properties,
                   const Amf0Value& information);
// An info object {level, code, description} (7.2.2 NetStream status codes).
Amf0Value make_status_info(std::string_view level, std::string_view code, std::string_view description);
Message make_on_status(uint32_t stream_id, std::string_view level, std::string_view code,
                       std::string_view description);
// onFCPublish / onFCUnpublish (ffmpeg and OBS wait for these after FCPublish).
Message make_fc_status(std::string_view name, std::string_view code, std::string_view description);
// "|RtmpSampleAccess" data message (Flash: lets the player read audio and video).
Message make_sample_access(uint32_t stream_id);
// "onMetaData" data message with an ECMA array of metadata.
Message make_on_metadata(uint32_t stream_id, const Amf0Value& metadata);

}  // namespace anchorcast::rtmp
