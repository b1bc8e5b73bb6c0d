// DCEP (RFC 8832) OPEN/ACK, including the OPEN aiortc 1.4 sends for
// createDataChannel("overlay") (captured from its RTCSctpTransport, PPID 50).
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "relay/protocol/dcep/dcep_message.hpp"

using namespace anchorcast::dcep;

namespace {

// type 3, reliable, priority 0, reliability 0, label "overlay" (7), protocol "" (0).
const std::vector<uint8_t> kAiortcOpen = {0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00,
                                          'o',  'v',  'e',  'r',  'l',  'a',  'y'};

}  // namespace

TEST(Dcep, ParsesOpenWithLabel) {
  auto m = parse_open(kAiortcOpen);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->label, "overlay");
  EXPECT_EQ(m->protocol, "");
  EXPECT_EQ(m->channel_type, ChannelType::reliable);
}

TEST(Dcep, OpenRoundTripsWithProtocolAndPartialReliability) {
  OpenMessage m;
  m.channel_type = ChannelType::partial_reliable_rexmit_unordered;
  m.priority = 256;
  m.reliability_parameter = 0x01020304;
  m.label = "chat";
  m.protocol = "json";
  std::vector<uint8_t> bytes;
  append_open(m, bytes);
  ASSERT_EQ(bytes.size(), kOpenHeaderSize + 8);
  auto back = parse_open(bytes);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->channel_type, m.channel_type);
  EXPECT_EQ(back->priority, 256);
  EXPECT_EQ(back->reliability_parameter, 0x01020304u);
  EXPECT_EQ(back->label, "chat");
  EXPECT_EQ(back->protocol, "json");
}

TEST(Dcep, RefusesOpenWhoseLabelLengthRunsPastTheMessage) {
  auto bytes = kAiortcOpen;
  bytes[9] = 0xFF;  // label length 255, 7 bytes follow
  EXPECT_FALSE(parse_open(bytes).ok());
  bytes = kAiortcOpen;
  bytes.push_back('x');  // one byte the lengths do not account for
  EXPECT_FALSE(parse_open(bytes).ok());
}

TEST(Dcep, RefusesTruncatedOpenAndUnknownChannelType) {
  for (size_t n = 0; n < kOpenHeaderSize; ++n)
    EXPECT_FALSE(parse_open(std::span(kAiortcOpen).first(n)).ok()) << n;
  auto bytes = kAiortcOpen;
  bytes[1] = 0x05;
  EXPECT_FALSE(parse_open(bytes).ok());
}

TEST(Dcep, AckIsOneByte) {
  std::vector<uint8_t> ack;
  append_ack(ack);
  ASSERT_EQ(ack, std::vector<uint8_t>{0x02});
  EXPECT_TRUE(parse_ack(ack).ok());
  EXPECT_FALSE(parse_ack(std::vector<uint8_t>{0x02, 0x00}).ok());
  EXPECT_FALSE(parse_ack(std::vector<uint8_t>{}).ok());
  EXPECT_FALSE(message_type(std::vector<uint8_t>{}).ok());
  EXPECT_EQ(*message_type(ack), kMessageAck);
}
