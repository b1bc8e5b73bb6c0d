#include "relay/protocol/rtmp/messages.hpp"

#include "relay/protocol/bits/byte_order.hpp"
#include "relay/protocol/bits/byte_writer.hpp"

namespace anchorcast::rtmp {

namespace {

using bits::load_be32;

Message control(uint8_t type_id, std::vector<uint8_t> payload) {
  // 5.4: protocol control messages go on message stream 0, chunk stream 2.
  Message m;
  m.type_id = type_id;
  m.csid = csid::kControl;
  m.payload = std::move(payload);
  return m;
}

Message u32_control(uint8_t type_id, uint32_t v) {
  std::vector<uint8_t> p;
  bits::append_be32(p, v);
  return control(type_id, std::move(p));
}

const char* type_name(uint8_t type_id) {
  switch (type_id) {
    case msg::kCommandAmf0: return "command";
    case msg::kCommandAmf3: return "AMF3 command";
    case msg::kDataAmf0: return "data message";
    case msg::kDataAmf3: return "AMF3 data message";
    default: return "message";
  }
}

// The AMF0 body of a command or data message: AMF3 variants (17, 15) carry a leading
// 0x00 format selector before AMF0 values (7.1.1, 7.1.2).
Result<std::span<const uint8_t>> amf0_body(const Message& m, uint8_t amf0_type, uint8_t amf3_type) {
  std::span<const uint8_t> body = m.payload;
  if (m.type_id == amf3_type) {
    if (body.empty()) return anchorcast::make_error(std::string("empty ") + type_name(m.type_id));
    body = body.subspan(1);
  } else if (m.type_id != amf0_type) {
    return anchorcast::make_error("message type " + std::to_string(m.type_id) + " is not a " +
                                  type_name(amf0_type));
  }
  return body;
}

Message data_message(uint32_t stream_id, std::vector<uint8_t> payload) {
  Message m;
  m.type_id = msg::kDataAmf0;
  m.stream_id = stream_id;
  m.csid = csid::kStreamCommand;
  m.payload = std::move(payload);
  return m;
}

}  // namespace

Message make_set_chunk_size(uint32_t size) { return u32_control(msg::kSetChunkSize, size & 0x7FFFFFFF); }
Message make_abort(uint32_t csid_to_abort) { return u32_control(msg::kAbort, csid_to_abort); }
Message make_acknowledgement(uint32_t seq) { return u32_control(msg::kAcknowledgement, seq); }
Message make_window_ack_size(uint32_t window) { return u32_control(msg::kWindowAckSize, window); }

Message make_set_peer_bandwidth(uint32_t window, PeerBandwidthLimit limit) {
  std::vector<uint8_t> p;
  bits::append_be32(p, window);
  p.push_back(static_cast<uint8_t>(limit));
  return control(msg::kSetPeerBandwidth, std::move(p));
}

Message make_user_control(UserControlEvent event, uint32_t value) {
  std::vector<uint8_t> p;
  bits::append_be16(p, static_cast<uint16_t>(event));
  bits::append_be32(p, value);
  return control(msg::kUserControl, std::move(p));
}

Message make_set_buffer_length(uint32_t stream_id, uint32_t buffer_ms) {
  std::vector<uint8_t> p;
  bits::append_be16(p, static_cast<uint16_t>(UserControlEvent::set_buffer_length));
  bits::append_be32(p, stream_id);
  bits::append_be32(p, buffer_ms);
  return control(msg::kUserControl, std::move(p));
}

Result<uint32_t> parse_u32_control(const Message& m) {
  if (m.payload.size() < 4)
    return anchorcast::make_error("control message type " + std::to_string(m.type_id) + " has " +
                                  std::to_string(m.payload.size()) + " bytes, needs 4");
  return load_be32(m.payload.data());
}

Result<UserControl> parse_user_control(const Message& m) {
  // 7.1.7: 2-byte event type, then event data (4 bytes; 8 for Set Buffer Length).
  if (m.payload.size() < 6)
    return anchorcast::make_error("user control message of " + std::to_string(m.payload.size()) +
                                  " bytes, needs at least 6");
  UserControl uc;
  uc.event = static_cast<UserControlEvent>(uint16_t(m.payload[0] << 8 | m.payload[1]));
  uc.value = load_be32(m.payload.data() + 2);
  if (uc.event == UserControlEvent::set_buffer_length) {
    if (m.payload.size() < 10)
      return anchorcast::make_error("Set Buffer Length of " + std::to_string(m.payload.size()) +
                                    " bytes, needs 10");
    uc.buffer_ms = load_be32(m.payload.data() + 6);
  }
  return uc;
}

Result<Command> parse_command(const Message& m, const Amf0Limits& limits) {
  auto body = amf0_body(m, msg::kCommandAmf0, msg::kCommandAmf3);
  if (!body) return body.error();
  std::span<const uint8_t> in = *body;
  auto name = decode_amf0_value(in, limits);
  if (!name) return name.error();
  if (!name->is_string()) return anchorcast::make_error("command name is not a string");
  Command c;
  c.name = std::move(name->string);
  // Some encoders end a command right after its name (e.g. a bare "FCUnpublish" from
  // old Wowza clients); the missing fields read as 0 / null.
  if (in.empty()) return c;
  auto txn = decode_amf0_value(in, limits);
  if (!txn) return txn.error();
  if (txn->type != Amf0Type::number)
    return anchorcast::make_error("command '" + c.name + "': transaction id is not a number");
  c.transaction_id = txn->number;
  if (in.empty()) return c;
  auto object = decode_amf0_value(in, limits);
  if (!object) return object.error();
  c.object = std::move(*object);
  auto args = decode_amf0(in, limits);
  if (!args) return args.error();
  c.args = std::move(*args);
  return c;
}

Result<DataMessage> parse_data(const Message& m, const Amf0Limits& limits) {
  auto body = amf0_body(m, msg::kDataAmf0, msg::kDataAmf3);
  if (!body) return body.error();
  auto values = decode_amf0(*body, limits);
  if (!values) return values.error();
  if (values->empty() || !values->front().is_string())
    return anchorcast::make_error("data message does not start with a name");
  DataMessage d;
  d.name = std::move(values->front().string);
  values->erase(values->begin());
  // ffmpeg/OBS send "@setDataFrame", "onMetaData", {...}: the server stores the frame
  // and relays it as "onMetaData", {...} (what FMS does).
  if (d.name == "@setDataFrame" && !values->empty() && values->front().is_string()) {
    d.name = std::move(values->front().string);
    values->erase(values->begin());
  }
  d.values = std::move(*values);
  return d;
}

Message make_command(uint32_t stream_id, std::string_view name, double transaction_id,
                     const Amf0Value& object, std::span<const Amf0Value> args) {
  Message m;
  m.type_id = msg::kCommandAmf0;
  m.stream_id = stream_id;
  m.csid = stream_id == 0 ? csid::kCommand : csid::kStreamCommand;
  encode_amf0(Amf0Value::make_string(std::string(name)), m.payload);
  encode_amf0(Amf0Value::make_number(transaction_id), m.payload);
  encode_amf0(object, m.payload);
  for (const auto& a : args) encode_amf0(a, m.payload);
  return m;
}

Message make_command_result(uint32_t stream_id, double transaction_id, const Amf0Value& properties,
                            const Amf0Value& information) {
  return make_command(stream_id, "_result", transaction_id, properties, std::span(&information, 1));
}

Message make_command_error(uint32_t stream_id, double transaction_id, const Amf0Value& properties,
                           const Amf0Value& information) {
  return make_command(stream_id, "_error", transaction_id, properties, std::span(&information, 1));
}

Amf0Value make_status_info(std::string_view level, std::string_view code, std::string_view description) {
  return Amf0Value::make_object({
      {"level", Amf0Value::make_string(std::string(level))},
      {"code", Amf0Value::make_string(std::string(code))},
      {"description", Amf0Value::make_string(std::string(description))},
  });
}

Message make_on_status(uint32_t stream_id, std::string_view level, std::string_view code,
                       std::string_view description) {
  // 7.2.2: onStatus carries transaction id 0 and a null command object.
  Amf0Value info = make_status_info(level, code, description);
  return make_command(stream_id, "onStatus", 0, Amf0Value::make_null(), std::span(&info, 1));
}

Message make_fc_status(std::string_view name, std::string_view code, std::string_view description) {
  Amf0Value info = make_status_info("status", code, description);
  Message m = make_command(0, name, 0, Amf0Value::make_null(), std::span(&info, 1));
  return m;
}

Message make_sample_access(uint32_t stream_id) {
  std::vector<uint8_t> p;
  encode_amf0(Amf0Value::make_string("|RtmpSampleAccess"), p);
  encode_amf0(Amf0Value::make_boolean(true), p);  // audio
  encode_amf0(Amf0Value::make_boolean(true), p);  // video
  return data_message(stream_id, std::move(p));
}

Message make_on_metadata(uint32_t stream_id, const Amf0Value& metadata) {
  std::vector<uint8_t> p;
  encode_amf0(Amf0Value::make_string("onMetaData"), p);
  encode_amf0(metadata, p);
  return data_message(stream_id, std::move(p));
}

}  // namespace anchorcast::rtmp
