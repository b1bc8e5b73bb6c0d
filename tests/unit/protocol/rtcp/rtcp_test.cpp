// RTCP compound parsing and building, round trips and malformed input.
#include <gtest/gtest.h>

#include <vector>

#include "relay/protocol/rtcp/rtcp_builder.hpp"
#include "relay/protocol/rtcp/rtcp_packet.hpp"

using namespace anchorcast::rtcp;

TEST(Rtcp, SenderReportWithCnameRoundTrips) {
  SenderInfo s{.ssrc = 0x11223344, .ntp_timestamp = ntp_from_unix_us(1'700'000'000'500'000), .rtp_timestamp = 90000,
               .packet_count = 10, .octet_count = 12000};
  ReportBlock block{.source_ssrc = 5, .fraction_lost = 25, .cumulative_lost = -3, .highest_sequence = 70000,
                    .jitter = 12, .last_sr = 0xabcd, .delay_since_last_sr = 65536};
  std::vector<uint8_t> out;
  ASSERT_TRUE(append_sender_report(s, std::span(&block, 1), out).ok());
  ASSERT_TRUE(append_sdes_cname(s.ssrc, "anchorcast", out).ok());
  EXPECT_TRUE(looks_like_rtcp(out));
  CompoundRtcp c;
  auto st = parse_rtcp(out, c);
  ASSERT_TRUE(st.ok()) << st.error().message;
  ASSERT_EQ(c.sender_reports.size(), 1u);
  EXPECT_EQ(c.sender_reports[0].ssrc, s.ssrc);
  EXPECT_EQ(c.sender_reports[0].ntp_timestamp, s.ntp_timestamp);
  EXPECT_EQ(c.sender_reports[0].rtp_timestamp, 90000u);
  EXPECT_EQ(c.sender_reports[0].packet_count, 10u);
  EXPECT_EQ(c.sender_reports[0].octet_count, 12000u);
  ASSERT_EQ(c.report_blocks.size(), 1u);
  EXPECT_EQ(c.report_blocks[0].reporter_ssrc, s.ssrc);
  EXPECT_EQ(c.report_blocks[0].cumulative_lost, -3);
  EXPECT_EQ(c.report_blocks[0].highest_sequence, 70000u);
  ASSERT_EQ(c.cnames.size(), 1u);
  EXPECT_EQ(c.cnames[0].cname, "anchorcast");
}

TEST(Rtcp, NtpTimestampOfTheUnixEpochIsRfc868Offset) {
  EXPECT_EQ(ntp_from_unix_us(0), 2208988800ull << 32);
  EXPECT_EQ(ntp_from_unix_us(500000) & 0xFFFFFFFFu, 0x80000000u);
}

TEST(Rtcp, ReceiverFeedbackRoundTrips) {
  std::vector<uint8_t> out;
  ReportBlock block{.source_ssrc = 9, .highest_sequence = 100};
  ASSERT_TRUE(append_receiver_report(1, std::span(&block, 1), out).ok());
  const std::vector<uint16_t> lost = {65530, 65531, 65535, 2, 100, 117, 118};
  ASSERT_TRUE(append_nack(1, 9, lost, out).ok());
  append_pli(1, 9, out);
  append_bye(1, out);
  CompoundRtcp c;
  auto st = parse_rtcp(out, c);
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(c.report_blocks.size(), 1u);
  std::vector<uint16_t> got;
  for (const auto& n : c.nacks) {
    EXPECT_EQ(n.media_ssrc, 9u);
    got.push_back(n.sequence);
  }
  EXPECT_EQ(got, lost);
  ASSERT_EQ(c.keyframe_requests.size(), 1u);
  EXPECT_FALSE(c.keyframe_requests[0].fir);
  EXPECT_EQ(c.keyframe_requests[0].media_ssrc, 9u);
  EXPECT_EQ(c.byes, std::vector<uint32_t>{1});
}

TEST(Rtcp, ParsesFirAndSkipsRemb) {
  const std::vector<uint8_t> bytes = {
      // FIR: PSFB fmt 4, sender 1, media 0, FCI: ssrc 9, seq 7
      0x84, 206, 0, 4, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 9, 7, 0, 0, 0,
      // REMB: PSFB fmt 15, "REMB", 1 ssrc
      0x8f, 206, 0, 5, 0, 0, 0, 1, 0, 0, 0, 0, 'R', 'E', 'M', 'B', 1, 0x0a, 0xbc, 0xde, 0, 0, 0, 9};
  CompoundRtcp c;
  auto st = parse_rtcp(bytes, c);
  ASSERT_TRUE(st.ok()) << st.error().message;
  ASSERT_EQ(c.keyframe_requests.size(), 1u);
  EXPECT_TRUE(c.keyframe_requests[0].fir);
  EXPECT_EQ(c.keyframe_requests[0].media_ssrc, 9u);
  EXPECT_EQ(c.keyframe_requests[0].fir_sequence, 7);
  EXPECT_EQ(c.ignored_packets, 1u);
}

TEST(Rtcp, RefusesMalformedCompounds) {
  std::vector<uint8_t> good;
  append_pli(1, 2, good);
  CompoundRtcp c;
  ASSERT_TRUE(parse_rtcp(good, c).ok());
  for (size_t n = 0; n < good.size(); ++n) EXPECT_FALSE(parse_rtcp(std::span(good).first(n), c).ok()) << n;
  auto too_long = good;
  too_long[3] = 9;
  EXPECT_FALSE(parse_rtcp(too_long, c).ok());
  auto version = good;
  version[0] = 0x41;
  EXPECT_FALSE(parse_rtcp(version, c).ok());
  const std::vector<uint8_t> rr_blocks_missing = {0x81, 201, 0, 1, 0, 0, 0, 1};
  EXPECT_FALSE(parse_rtcp(rr_blocks_missing, c).ok());
  const std::vector<uint8_t> nack_empty = {0x81, 205, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2};
  EXPECT_FALSE(parse_rtcp(nack_empty, c).ok());
  const std::vector<uint8_t> sdes_unterminated = {0x81, 202, 0, 2, 0, 0, 0, 1, 1, 2, 'a', 'b'};
  EXPECT_FALSE(parse_rtcp(sdes_unterminated, c).ok());
  auto padded_first = good;
  padded_first[0] |= 0x20;
  padded_first.insert(padded_first.end(), good.begin(), good.end());
  EXPECT_FALSE(parse_rtcp(padded_first, c).ok());
}

TEST(Rtcp, CapsNackExpansion) {
  std::vector<uint16_t> lost;
  for (int i = 0; i < 4000; ++i) lost.push_back(static_cast<uint16_t>(i * 2));
  std::vector<uint8_t> out;
  ASSERT_TRUE(append_nack(1, 2, lost, out).ok());
  CompoundRtcp c;
  ASSERT_TRUE(parse_rtcp(out, c).ok());
  EXPECT_EQ(c.nacks.size(), kMaxNackedSequences);
  EXPECT_EQ(c.nacks_dropped, 4000 - kMaxNackedSequences);
}
