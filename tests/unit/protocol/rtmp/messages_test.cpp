#include "relay/protocol/rtmp/messages.hpp"

#include <gtest/gtest.h>

namespace anchorcast::rtmp {
namespace {

TEST(Messages, BuildsProtocolControlMessages) {
  Message m = make_set_chunk_size(4096);
  EXPECT_EQ(m.type_id, msg::kSetChunkSize);
  EXPECT_EQ(m.csid, 2u);
  EXPECT_EQ(m.stream_id, 0u);
  EXPECT_EQ(m.payload, (std::vector<uint8_t>{0, 0, 0x10, 0}));

  m = make_window_ack_size(2500000);
  EXPECT_EQ(m.type_id, msg::kWindowAckSize);
  EXPECT_EQ(m.payload, (std::vector<uint8_t>{0x00, 0x26, 0x25, 0xA0}));
  EXPECT_EQ(parse_u32_control(m).value(), 2500000u);

  m = make_set_peer_bandwidth(2500000, PeerBandwidthLimit::dynamic);
  EXPECT_EQ(m.type_id, msg::kSetPeerBandwidth);
  EXPECT_EQ(m.payload, (std::vector<uint8_t>{0x00, 0x26, 0x25, 0xA0, 2}));

  m = make_acknowledgement(123);
  EXPECT_EQ(m.type_id, msg::kAcknowledgement);
  EXPECT_EQ(parse_u32_control(m).value(), 123u);

  m = make_abort(6);
  EXPECT_EQ(m.type_id, msg::kAbort);
  EXPECT_EQ(parse_u32_control(m).value(), 6u);
}

TEST(Messages, SetChunkSizeNeverSetsTheReservedBit) {
  EXPECT_EQ(make_set_chunk_size(0xFFFFFFFF).payload[0], 0x7F);
}

TEST(Messages, BuildsAndParsesUserControlEvents) {
  Message m = make_user_control(UserControlEvent::stream_begin, 1);
  EXPECT_EQ(m.type_id, msg::kUserControl);
  EXPECT_EQ(m.payload, (std::vector<uint8_t>{0, 0, 0, 0, 0, 1}));
  auto uc = parse_user_control(make_user_control(UserControlEvent::ping_request, 777));
  ASSERT_TRUE(uc.ok());
  EXPECT_EQ(uc->event, UserControlEvent::ping_request);
  EXPECT_EQ(uc->value, 777u);

  auto sb = parse_user_control(make_set_buffer_length(1, 3000));
  ASSERT_TRUE(sb.ok());
  EXPECT_EQ(sb->event, UserControlEvent::set_buffer_length);
  EXPECT_EQ(sb->value, 1u);
  EXPECT_EQ(sb->buffer_ms, 3000u);
}

TEST(Messages, RejectsShortControlPayloads) {
  Message m;
  m.type_id = msg::kUserControl;
  m.payload = {0, 3, 0, 0, 0, 1};  // Set Buffer Length without its length
  EXPECT_FALSE(parse_user_control(m).ok());
  m.payload = {0, 0, 0};
  EXPECT_FALSE(parse_user_control(m).ok());
  m.type_id = msg::kAcknowledgement;
  auto r = parse_u32_control(m);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "control message type 3 has 3 bytes, needs 4");
}

TEST(Messages, ParsesAConnectCommand) {
  Amf0Value obj = Amf0Value::make_object({{"app", Amf0Value::make_string("live")},
                                          {"tcUrl", Amf0Value::make_string("rtmp://h/live")}});
  Message m = make_command(0, "connect", 1, obj);
  EXPECT_EQ(m.type_id, msg::kCommandAmf0);
  EXPECT_EQ(m.csid, csid::kCommand);
  auto c = parse_command(m);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->name, "connect");
  EXPECT_EQ(c->transaction_id, 1);
  EXPECT_EQ(c->object.get_string("app"), "live");
  EXPECT_TRUE(c->args.empty());
}

TEST(Messages, ParsesPublishWithArguments) {
  Amf0Value args[2] = {Amf0Value::make_string("key?x=1"), Amf0Value::make_string("live")};
  auto c = parse_command(make_command(1, "publish", 5, Amf0Value::make_null(), args));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->name, "publish");
  ASSERT_EQ(c->args.size(), 2u);
  EXPECT_EQ(c->args[0].string, "key?x=1");
}

TEST(Messages, ParsesAmf3CommandsWithTheLeadingZero) {
  Message m = make_command(0, "createStream", 2, Amf0Value::make_null());
  m.type_id = msg::kCommandAmf3;
  m.payload.insert(m.payload.begin(), 0x00);
  auto c = parse_command(m);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->name, "createStream");
  EXPECT_EQ(c->transaction_id, 2);
}

TEST(Messages, ParsesCommandsCutShortAfterTheName) {
  Message m;
  m.type_id = msg::kCommandAmf0;
  encode_amf0(Amf0Value::make_string("FCUnpublish"), m.payload);
  auto c = parse_command(m);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->name, "FCUnpublish");
  EXPECT_EQ(c->object.type, Amf0Type::null);
}

TEST(Messages, RejectsMalformedCommands) {
  Message m;
  m.type_id = msg::kCommandAmf0;
  encode_amf0(Amf0Value::make_number(1), m.payload);
  auto c = parse_command(m);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().message, "command name is not a string");

  m.payload.clear();
  encode_amf0(Amf0Value::make_string("connect"), m.payload);
  encode_amf0(Amf0Value::make_string("not a number"), m.payload);
  EXPECT_EQ(parse_command(m).error().message, "command 'connect': transaction id is not a number");

  m.payload = {0x02, 0x00, 0x09, 'x'};
  EXPECT_FALSE(parse_command(m).ok());

  m.type_id = msg::kCommandAmf3;
  m.payload.clear();
  EXPECT_EQ(parse_command(m).error().message, "empty AMF3 command");

  m.type_id = msg::kAudio;
  EXPECT_FALSE(parse_command(m).ok());
}

TEST(Messages, BuildsResultAndErrorReplies) {
  Amf0Value props = Amf0Value::make_object({{"fmsVer", Amf0Value::make_string("FMS/3,0,1,123")}});
  Amf0Value info = make_status_info("status", "NetConnection.Connect.Success", "Connection succeeded.");
  auto r = parse_command(make_command_result(0, 1, props, info));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->name, "_result");
  EXPECT_EQ(r->transaction_id, 1);
  EXPECT_EQ(r->object.get_string("fmsVer"), "FMS/3,0,1,123");
  ASSERT_EQ(r->args.size(), 1u);
  EXPECT_EQ(r->args[0].get_string("code"), "NetConnection.Connect.Success");

  auto e = parse_command(make_command_error(0, 4, Amf0Value::make_null(), info));
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->name, "_error");
  EXPECT_EQ(e->transaction_id, 4);
}

TEST(Messages, BuildsOnStatus) {
  Message m = make_on_status(1, "error", "NetStream.Publish.BadName", "Unknown stream key.");
  EXPECT_EQ(m.stream_id, 1u);
  EXPECT_EQ(m.csid, csid::kStreamCommand);
  auto c = parse_command(m);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->name, "onStatus");
  EXPECT_EQ(c->transaction_id, 0);
  EXPECT_EQ(c->object.type, Amf0Type::null);
  ASSERT_EQ(c->args.size(), 1u);
  EXPECT_EQ(c->args[0].get_string("level"), "error");
  EXPECT_EQ(c->args[0].get_string("code"), "NetStream.Publish.BadName");
  EXPECT_EQ(c->args[0].get_string("description"), "Unknown stream key.");
}

TEST(Messages, BuildsOnFCPublish) {
  auto c = parse_command(make_fc_status("onFCPublish", "NetStream.Publish.Start", "k"));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->name, "onFCPublish");
  EXPECT_EQ(c->args[0].get_string("code"), "NetStream.Publish.Start");
}

TEST(Messages, BuildsSampleAccessAndMetadata) {
  auto d = parse_data(make_sample_access(1));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->name, "|RtmpSampleAccess");
  ASSERT_EQ(d->values.size(), 2u);
  EXPECT_TRUE(d->values[0].boolean);

  Amf0Value meta = Amf0Value::make_ecma_array({{"width", Amf0Value::make_number(1280)}});
  Message m = make_on_metadata(1, meta);
  EXPECT_EQ(m.type_id, msg::kDataAmf0);
  auto md = parse_data(m);
  ASSERT_TRUE(md.ok());
  EXPECT_EQ(md->name, "onMetaData");
  EXPECT_EQ(md->values[0].get_number("width"), 1280.0);
}

TEST(Messages, UnwrapsSetDataFrame) {
  Message m;
  m.type_id = msg::kDataAmf0;
  encode_amf0(Amf0Value::make_string("@setDataFrame"), m.payload);
  encode_amf0(Amf0Value::make_string("onMetaData"), m.payload);
  encode_amf0(Amf0Value::make_ecma_array({{"framerate", Amf0Value::make_number(30)}}), m.payload);
  auto d = parse_data(m);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->name, "onMetaData");
  ASSERT_EQ(d->values.size(), 1u);
  EXPECT_EQ(d->values[0].get_number("framerate"), 30.0);

  m.payload = {0x05};
  EXPECT_EQ(parse_data(m).error().message, "data message does not start with a name");
}

}  // namespace
}  // namespace anchorcast::rtmp
