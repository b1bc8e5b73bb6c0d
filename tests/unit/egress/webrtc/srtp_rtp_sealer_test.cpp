// The OpenSSL hot path against libsrtp as the oracle: the same keys and packets must
// give the same bytes, and libsrtp must unprotect what the sealer sealed.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "relay/egress/webrtc/srtp_rtp_sealer.hpp"
#include "relay/egress/webrtc/srtp_session.hpp"

namespace anchorcast::webrtc {
namespace {

using Bytes = std::vector<uint8_t>;

Bytes rtp(uint16_t seq, uint32_t ssrc, size_t payload, uint8_t first_byte = 0x80, std::mt19937* rng = nullptr) {
  Bytes p;
  p.reserve(12 + 60 + 8 + payload);  // one allocation (and no GCC 12 -Warray-bounds false positive)
  for (uint8_t b : {first_byte, uint8_t(102), uint8_t(seq >> 8), uint8_t(seq), uint8_t(0), uint8_t(1), uint8_t(2),
                    uint8_t(3), uint8_t(ssrc >> 24), uint8_t(ssrc >> 16), uint8_t(ssrc >> 8), uint8_t(ssrc)})
    p.push_back(b);
  if (first_byte & 0x0F) p.insert(p.end(), 4 * (first_byte & 0x0F), 0xCC);  // CSRCs
  if (first_byte & 0x10) p.insert(p.end(), {0xBE, 0xDE, 0, 1, 0x10, 0xAA, 0, 0});  // one-byte extension
  for (size_t i = 0; i < payload; ++i) p.push_back(rng ? uint8_t((*rng)()) : uint8_t(i));
  return p;
}

class SealerVsLibsrtp : public ::testing::TestWithParam<SrtpProfile> {};

TEST_P(SealerVsLibsrtp, SameBytesAsLibsrtpAcrossRocWrapRetransmissionsAndSsrcs) {
  SrtpProfile profile = GetParam();
  std::mt19937 rng(11);
  Bytes key(srtp_key_length(profile) + srtp_salt_length(profile));
  for (auto& b : key) b = uint8_t(rng());
  auto oracle = SrtpSession::create(SrtpSession::Direction::outbound, profile, key).value();
  auto sealer = SrtpRtpSealer::create(profile, key).value();
  auto receiver = SrtpSession::create(SrtpSession::Direction::inbound, profile, key).value();

  struct Step {
    uint16_t seq;
    uint32_t ssrc;
    uint8_t first_byte = 0x80;
  };
  std::vector<Step> steps;
  for (uint16_t s = 65500; s != 40; ++s) steps.push_back({s, 0x11111111});  // the ROC wraps
  steps.push_back({65530, 0x11111111});                                      // a retransmission from before the wrap
  steps.push_back({20, 0x11111111});                                         // and one after it
  for (uint16_t s = 7; s < 30; ++s) steps.push_back({s, 0x22222222, s % 3 == 0 ? uint8_t(0x92) : uint8_t(0x80)});
  steps.push_back({41, 0x11111111});
  for (const Step& step : steps) {
    Bytes plain = rtp(step.seq, step.ssrc, 200 + step.seq % 900, step.first_byte, &rng);
    auto expected = oracle.protect_rtp(plain);
    ASSERT_TRUE(expected.ok()) << expected.error().message;
    Bytes buffer(plain.size() + 16);
    std::copy(plain.begin(), plain.end(), buffer.begin());
    auto size = sealer.seal(buffer, plain.size());
    ASSERT_TRUE(size.ok()) << size.error().message;
    buffer.resize(*size);
    ASSERT_EQ(buffer, Bytes(expected->begin(), expected->end())) << "seq " << step.seq << " ssrc " << step.ssrc;
  }
  // And a receiver takes what a sealer made (a fresh pair: the ROC starts at 0 for both).
  auto fresh = SrtpRtpSealer::create(profile, key).value();
  Bytes plain = rtp(42, 0x11111111, 500);
  Bytes buffer(plain.size() + 16);
  std::copy(plain.begin(), plain.end(), buffer.begin());
  buffer.resize(fresh.seal(buffer, plain.size()).value());
  auto opened = receiver.unprotect_rtp(buffer);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_EQ(Bytes(opened->begin(), opened->end()), plain);
}

TEST_P(SealerVsLibsrtp, RefusesWhatIsNotRtpOrHasNoRoomForTheTag) {
  SrtpProfile profile = GetParam();
  Bytes key(srtp_key_length(profile) + srtp_salt_length(profile), 5);
  auto sealer = SrtpRtpSealer::create(profile, key).value();
  Bytes p = rtp(1, 1, 100);
  Bytes tight = p;
  EXPECT_FALSE(sealer.seal(tight, tight.size()).ok()) << "no room for the tag";
  Bytes v1 = p;
  v1[0] = 0x40;
  v1.resize(v1.size() + 16);
  EXPECT_FALSE(sealer.seal(v1, p.size()).ok()) << "RTP version 1";
  Bytes csrc_overrun = p;
  csrc_overrun[0] = 0x8F;
  csrc_overrun.resize(40 + 16);
  EXPECT_FALSE(sealer.seal(csrc_overrun, 40).ok()) << "15 CSRCs in 40 bytes";
  EXPECT_FALSE(SrtpRtpSealer::create(profile, Bytes(7, 1)).ok());
}

INSTANTIATE_TEST_SUITE_P(Both, SealerVsLibsrtp,
                         ::testing::Values(SrtpProfile::aes128_cm_sha1_80, SrtpProfile::aead_aes_128_gcm));

}  // namespace
}  // namespace anchorcast::webrtc
