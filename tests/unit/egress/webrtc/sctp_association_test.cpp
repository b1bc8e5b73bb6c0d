// Two usrsctp associations wired back to back in one thread (what DTLS carries in the
// server, here a queue): they connect (both send INIT, as WebRTC peers do), exchange a
// DCEP OPEN/ACK and a string message, and a reset stream is reported. Garbage handed to
// usrsctp does not break the association.
#include "relay/egress/webrtc/sctp_association.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <string>
#include <vector>

#include "relay/protocol/dcep/dcep_message.hpp"
#include "relay/protocol/sctp/sctp_packet.hpp"

namespace anchorcast::webrtc {
namespace {

struct Peer {
  std::deque<std::vector<uint8_t>> to_other;  // packets it sent, not yet delivered
  struct Message {
    uint16_t stream;
    uint32_t ppid;
    std::string text;
  };
  std::vector<Message> received;
  std::vector<uint16_t> resets;
  bool up = false;
  // Last: its destructor sends an ABORT through the callbacks into the members above.
  std::unique_ptr<SctpAssociation> sctp;
};

SctpAssociation::Callbacks callbacks_for(Peer& p) {
  SctpAssociation::Callbacks c;
  c.send_packet = [&p](std::span<const uint8_t> packet) {
    // What the session checks before usrsctp sees a packet holds for usrsctp's own.
    EXPECT_TRUE(sctp::check_packet(packet).ok());
    EXPECT_LE(packet.size(), SctpAssociation::kMaxPacketSize);
    p.to_other.emplace_back(packet.begin(), packet.end());
  };
  c.on_message = [&p](uint16_t stream, uint32_t ppid, std::span<const uint8_t> bytes) {
    p.received.push_back({stream, ppid, std::string(bytes.begin(), bytes.end())});
  };
  c.on_established = [&p] { p.up = true; };
  c.on_stream_reset = [&p](uint16_t stream) { p.resets.push_back(stream); };
  return c;
}

// Delivers queued packets both ways until neither side has any (bounded).
void exchange(Peer& a, Peer& b, SctpLibrary& library) {
  for (int round = 0; round < 200 && (!a.to_other.empty() || !b.to_other.empty()); ++round) {
    while (!a.to_other.empty()) {
      auto p = std::move(a.to_other.front());
      a.to_other.pop_front();
      b.sctp->receive(p);
    }
    while (!b.to_other.empty()) {
      auto p = std::move(b.to_other.front());
      b.to_other.pop_front();
      a.sctp->receive(p);
    }
    library.advance(SctpLibrary::Clock::now());
  }
}

TEST(SctpAssociation, ConnectsBothWaysAndCarriesDcepAndText) {
  SctpLibrary library;
  Peer server, client;
  auto s = SctpAssociation::create(library, 5000, 5000, callbacks_for(server));
  auto c = SctpAssociation::create(library, 5000, 5000, callbacks_for(client));
  ASSERT_TRUE(s.ok()) << s.error().message;
  ASSERT_TRUE(c.ok()) << c.error().message;
  server.sctp = std::move(*s);
  client.sctp = std::move(*c);
  ASSERT_TRUE(client.sctp->connect().ok());
  ASSERT_TRUE(server.sctp->connect().ok());
  exchange(server, client, library);
  ASSERT_TRUE(server.up && client.up);
  EXPECT_TRUE(server.sctp->established());

  // The DTLS client's channel is on an even stream (RFC 8832 §6).
  dcep::OpenMessage open;
  open.label = "overlay";
  std::vector<uint8_t> bytes;
  dcep::append_open(open, bytes);
  ASSERT_TRUE(client.sctp->send(0, dcep::kPpidDcep, bytes).ok());
  exchange(server, client, library);
  ASSERT_EQ(server.received.size(), 1u);
  EXPECT_EQ(server.received[0].stream, 0);
  EXPECT_EQ(server.received[0].ppid, dcep::kPpidDcep);

  // A message bigger than one packet is fragmented by SCTP and arrives whole.
  std::string cue = R"({"type":"cue","overlays":[)" + std::string(5000, ' ') + "]}";
  ASSERT_TRUE(server.sctp->send(0, dcep::kPpidString,
                                std::span(reinterpret_cast<const uint8_t*>(cue.data()), cue.size()))
                  .ok());
  exchange(server, client, library);
  ASSERT_EQ(client.received.size(), 1u);
  EXPECT_EQ(client.received[0].ppid, dcep::kPpidString);
  EXPECT_EQ(client.received[0].text, cue);

  // The viewer closes the channel: its reset reaches us and ours answers it.
  client.sctp->reset_stream(0);
  exchange(server, client, library);
  EXPECT_EQ(server.resets, std::vector<uint16_t>{0});
  EXPECT_EQ(client.resets, std::vector<uint16_t>{0});
  // A later channel on the same stream closes the same way (nothing left over).
  client.sctp->reset_stream(0);
  exchange(server, client, library);
  EXPECT_EQ(server.resets, (std::vector<uint16_t>{0, 0}));
  EXPECT_EQ(client.resets, (std::vector<uint16_t>{0, 0}));
}

TEST(SctpAssociation, GarbageFromThePeerDoesNotEndTheAssociation) {
  SctpLibrary library;
  Peer server, client;
  server.sctp = SctpAssociation::create(library, 5000, 5000, callbacks_for(server)).value();
  client.sctp = SctpAssociation::create(library, 5000, 5000, callbacks_for(client)).value();
  ASSERT_TRUE(client.sctp->connect().ok());
  ASSERT_TRUE(server.sctp->connect().ok());
  exchange(server, client, library);
  ASSERT_TRUE(server.up);

  // A packet with a valid checksum but nonsense chunks, and a short one.
  std::vector<uint8_t> junk = {0x13, 0x88, 0x13, 0x88, 1, 2, 3, 4, 0, 0, 0, 0, 0x00, 0x03, 0x00, 0x08, 9, 9, 9, 9};
  sctp::write_checksum(junk);
  server.sctp->receive(junk);
  server.sctp->receive(std::span(junk).first(5));
  exchange(server, client, library);
  EXPECT_FALSE(server.sctp->closed());

  std::string hello = "still here";
  ASSERT_TRUE(client.sctp->send(2, dcep::kPpidString,
                                std::span(reinterpret_cast<const uint8_t*>(hello.data()), hello.size()))
                  .ok());
  exchange(server, client, library);
  ASSERT_FALSE(server.received.empty());
  EXPECT_EQ(server.received.back().text, hello);
}

}  // namespace
}  // namespace anchorcast::webrtc
