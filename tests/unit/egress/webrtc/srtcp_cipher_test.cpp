// SrtcpCipher against libsrtp as the oracle: same keys and packets give the same bytes,
// each side opens what the other sealed, and forgeries and replays are refused.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "relay/egress/webrtc/srtcp_cipher.hpp"
#include "relay/egress/webrtc/srtp_session.hpp"
#include "relay/protocol/rtcp/rtcp_builder.hpp"

namespace anchorcast::webrtc {
namespace {

using Bytes = std::vector<uint8_t>;

Bytes key_for(SrtpProfile profile, uint32_t seed) {
  std::mt19937 rng(seed);
  Bytes key(srtp_key_length(profile) + srtp_salt_length(profile));
  for (auto& b : key) b = uint8_t(rng());
  return key;
}

// A sender report + SDES, or a receiver report: the shapes sessions send and receive.
Bytes compound(uint32_t ssrc, int n) {
  Bytes out;
  if (n % 2 == 0) {
    rtcp::SenderInfo info;
    info.ssrc = ssrc;
    info.ntp_timestamp = 0x0123456789ABCDEFull + uint64_t(n);
    info.rtp_timestamp = 90000u * uint32_t(n);
    info.packet_count = uint32_t(n);
    info.octet_count = 1000u * uint32_t(n);
    EXPECT_TRUE(rtcp::append_sender_report(info, {}, out));
    EXPECT_TRUE(rtcp::append_sdes_cname(ssrc, "anchorcast-test", out));
  } else {
    rtcp::ReportBlock block;
    block.source_ssrc = 0xABCDEF01;
    block.highest_sequence = 1000u + uint32_t(n);
    EXPECT_TRUE(rtcp::append_receiver_report(ssrc, std::span(&block, 1), out));
  }
  return out;
}

Bytes bytes(std::span<const uint8_t> s) { return Bytes(s.begin(), s.end()); }

class SrtcpVsLibsrtp : public ::testing::TestWithParam<SrtpProfile> {};

TEST_P(SrtcpVsLibsrtp, SameBytesAsLibsrtpAndEachOpensTheOther) {
  const SrtpProfile profile = GetParam();
  const Bytes key = key_for(profile, 3);
  auto oracle_out = SrtpSession::create(SrtpSession::Direction::outbound, profile, key).value();
  auto oracle_in = SrtpSession::create(SrtpSession::Direction::inbound, profile, key).value();
  auto ours_out = SrtcpCipher::create(profile, key).value();
  auto ours_in = SrtcpCipher::create(profile, key).value();
  for (int n = 0; n < 40; ++n) {
    const Bytes plain = compound(n < 20 ? 0x11111111 : 0x22222222, n);
    auto expected = oracle_out.protect_rtcp(plain);
    ASSERT_TRUE(expected.ok()) << expected.error().message;
    const Bytes theirs = bytes(*expected);
    auto sealed = ours_out.protect(plain);
    ASSERT_TRUE(sealed.ok()) << sealed.error().message;
    const Bytes mine = bytes(*sealed);
    ASSERT_EQ(mine, theirs) << "packet " << n;

    Bytes a = mine;
    auto opened_by_libsrtp = oracle_in.unprotect_rtcp(a);
    ASSERT_TRUE(opened_by_libsrtp.ok()) << opened_by_libsrtp.error().message;
    EXPECT_EQ(bytes(*opened_by_libsrtp), plain);
    Bytes b = theirs;
    auto opened_by_us = ours_in.unprotect(b);
    ASSERT_TRUE(opened_by_us.ok()) << opened_by_us.error().message;
    EXPECT_EQ(bytes(*opened_by_us), plain);
  }
}

TEST_P(SrtcpVsLibsrtp, RefusesForgeriesReplaysAndRunts) {
  const SrtpProfile profile = GetParam();
  const Bytes key = key_for(profile, 4);
  auto sender = SrtcpCipher::create(profile, key).value();
  auto receiver = SrtcpCipher::create(profile, key).value();
  std::vector<Bytes> sealed;
  for (int n = 0; n < 100; ++n) sealed.push_back(bytes(sender.protect(compound(0x33333333, n)).value()));

  // Every byte matters: flip each in turn.
  for (size_t i = 0; i < sealed[0].size(); ++i) {
    Bytes forged = sealed[0];
    forged[i] ^= 0x01;
    EXPECT_FALSE(receiver.unprotect(forged).ok()) << "byte " << i;
  }
  // A wrong key.
  auto stranger = SrtcpCipher::create(profile, key_for(profile, 5)).value();
  Bytes other = sealed[0];
  EXPECT_FALSE(stranger.unprotect(other).ok());

  Bytes first = sealed[0];
  EXPECT_TRUE(receiver.unprotect(first).ok());
  Bytes again = sealed[0];
  EXPECT_FALSE(receiver.unprotect(again).ok()) << "a replay";
  // Out of order inside the window: each once.
  Bytes late10 = sealed[10], late5 = sealed[5], late5_again = sealed[5];
  EXPECT_TRUE(receiver.unprotect(late10).ok());
  EXPECT_TRUE(receiver.unprotect(late5).ok());
  EXPECT_FALSE(receiver.unprotect(late5_again).ok());
  // Far behind the highest (99 − 20 > 64): refused even though never seen.
  Bytes newest = sealed[99], ancient = sealed[20];
  EXPECT_TRUE(receiver.unprotect(newest).ok());
  EXPECT_FALSE(receiver.unprotect(ancient).ok());

  for (size_t size : {size_t(0), size_t(8), size_t(12), size_t(21)}) {
    Bytes runt(size, 0x80);
    EXPECT_FALSE(receiver.unprotect(runt).ok()) << size;
  }
  Bytes huge(3000, 0x80);
  EXPECT_FALSE(receiver.unprotect(huge).ok());
  EXPECT_FALSE(sender.protect(Bytes(4, 0x80)).ok()) << "shorter than an RTCP header";
}

INSTANTIATE_TEST_SUITE_P(Profiles, SrtcpVsLibsrtp,
                         ::testing::Values(SrtpProfile::aes128_cm_sha1_80, SrtpProfile::aead_aes_128_gcm),
                         [](const auto& info) {
                           return info.param == SrtpProfile::aead_aes_128_gcm ? std::string("gcm") : std::string("cm");
                         });

}  // namespace
}  // namespace anchorcast::webrtc
