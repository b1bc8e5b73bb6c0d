// SCTP packet framing and CRC32c (RFC 9260 §3 and Appendix A; CRC vectors from
// RFC 3720 B.4).
#include <gtest/gtest.h>

#include <cstdint>
#include <string_view>
#include <vector>

#include "relay/protocol/sctp/sctp_packet.hpp"

using namespace anchorcast::sctp;

namespace {

// Common header 5000 → 5000, tag 0, then an INIT chunk (type 1, length 20).
std::vector<uint8_t> init_packet() {
  std::vector<uint8_t> p = {0x13, 0x88, 0x13, 0x88, 0, 0, 0, 0, 0, 0, 0, 0,
                            0x01, 0x00, 0x00, 0x14, 0xde, 0xad, 0xbe, 0xef, 0x00, 0x02, 0x00, 0x00,
                            0x04, 0x00, 0x04, 0x00, 0x12, 0x34, 0x56, 0x78};
  write_checksum(p);
  return p;
}

}  // namespace

TEST(SctpPacket, Crc32cMatchesRfc3720Vectors) {
  std::vector<uint8_t> zeros(32, 0x00), ones(32, 0xFF), inc(32);
  for (size_t i = 0; i < inc.size(); ++i) inc[i] = static_cast<uint8_t>(i);
  EXPECT_EQ(crc32c(zeros), 0x8A9136AAu);
  EXPECT_EQ(crc32c(ones), 0x62A8AB43u);
  EXPECT_EQ(crc32c(inc), 0x46DD794Eu);
  std::string_view digits = "123456789";
  EXPECT_EQ(crc32c(std::span(reinterpret_cast<const uint8_t*>(digits.data()), digits.size())), 0xE3069283u);
}

TEST(SctpPacket, AcceptsAnInitWithItsChecksum) {
  auto p = init_packet();
  auto s = check_packet(p);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->header.source_port, 5000);
  EXPECT_EQ(s->chunks, 1u);
  EXPECT_EQ(s->first_chunk_type, chunk::kInit);
}

TEST(SctpPacket, RefusesABadChecksum) {
  auto p = init_packet();
  p[20] ^= 1;
  EXPECT_FALSE(check_packet(p).ok());
}

TEST(SctpPacket, RefusesChunkLengthsThatLieAndBundledInit) {
  auto p = init_packet();
  p[15] = 0x40;  // INIT length 64 in a 32-byte packet
  write_checksum(p);
  EXPECT_FALSE(check_packet(p).ok());
  p = init_packet();
  p[15] = 0x02;  // length 2 < a chunk header
  write_checksum(p);
  EXPECT_FALSE(check_packet(p).ok());
  p = init_packet();
  for (uint8_t b : {0x05, 0x00, 0x00, 0x04}) p.push_back(b);  // HEARTBEAT ACK after the INIT
  write_checksum(p);
  EXPECT_FALSE(check_packet(p).ok());
}

TEST(SctpPacket, AcceptsBundledControlChunksAndRefusesShortPackets) {
  std::vector<uint8_t> p = {0x13, 0x88, 0x13, 0x88, 1, 2, 3, 4, 0, 0, 0, 0,
                            0x0b, 0x00, 0x00, 0x04,                      // COOKIE ACK
                            0x05, 0x00, 0x00, 0x06, 0xaa, 0xbb, 0, 0};  // HEARTBEAT ACK, padded
  write_checksum(p);
  auto s = check_packet(p);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->chunks, 2u);
  for (size_t n = 0; n < 16; ++n) EXPECT_FALSE(check_packet(std::span(p).first(n)).ok()) << n;
}
