#include "relay/protocol/rtmp/handshake.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstring>

namespace anchorcast::rtmp {
namespace {

std::vector<uint8_t> plain_c0c1() {
  std::vector<uint8_t> c(1 + kHandshakeSize);
  c[0] = 3;
  for (size_t i = 9; i < c.size(); ++i) c[i] = static_cast<uint8_t>(i * 7);
  return c;
}

// A C1 as Flash Player / ffmpeg build it: a non-zero version and an HMAC-SHA256 digest
// keyed with the first 30 bytes of the Genuine FP key.
std::vector<uint8_t> digest_c0c1(DigestScheme scheme) {
  std::vector<uint8_t> c = plain_c0c1();
  const uint8_t version[4] = {9, 0, 124, 2};  // what ffmpeg sends
  std::memcpy(c.data() + 5, version, 4);
  write_digest(std::span<uint8_t, kHandshakeSize>(c.data() + 1, kHandshakeSize), scheme,
               genuine_fp_key().first(kFpKeyTextSize));
  return c;
}

// Independent of the code under test: straight OpenSSL.
Digest openssl_hmac(std::span<const uint8_t> key, std::span<const uint8_t> data) {
  Digest d{};
  unsigned len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), data.data(), data.size(), d.data(), &len);
  return d;
}

TEST(Handshake, HmacMatchesRfc4231TestCase2) {
  std::string key = "Jefe", data = "what do ya want for nothing?";
  Digest d = hmac_sha256(std::span(reinterpret_cast<const uint8_t*>(key.data()), key.size()),
                         std::span(reinterpret_cast<const uint8_t*>(data.data()), data.size()));
  const uint8_t expected[32] = {0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a, 0x04, 0x24,
                                0x26, 0x08, 0x95, 0x75, 0xc7, 0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27,
                                0x39, 0x83, 0x9d, 0xec, 0x58, 0xb9, 0x64, 0xec, 0x38, 0x43};
  EXPECT_EQ(0, std::memcmp(d.data(), expected, 32));
}

TEST(Handshake, KeysAreTheGenuineAdobeOnes) {
  auto fp = genuine_fp_key();
  auto fms = genuine_fms_key();
  EXPECT_EQ(fp.size(), 62u);
  EXPECT_EQ(fms.size(), 68u);
  EXPECT_EQ(std::string(fp.begin(), fp.begin() + kFpKeyTextSize), "Genuine Adobe Flash Player 001");
  EXPECT_EQ(std::string(fms.begin(), fms.begin() + kFmsKeyTextSize), "Genuine Adobe Flash Media Server 001");
  EXPECT_TRUE(std::equal(fp.begin() + 30, fp.end(), fms.begin() + 36));
}

TEST(Handshake, DigestOffsetStaysInsideItsHalf) {
  std::vector<uint8_t> block(kHandshakeSize, 0xFF);  // the largest sum: 1020 % 728 = 292
  HandshakeBlock b(block.data(), kHandshakeSize);
  EXPECT_EQ(digest_offset(b, DigestScheme::key_first), 292u + 776u);
  EXPECT_EQ(digest_offset(b, DigestScheme::digest_first), 292u + 12u);
  std::fill(block.begin(), block.end(), 0);
  EXPECT_EQ(digest_offset(b, DigestScheme::key_first), 776u);
  EXPECT_EQ(digest_offset(b, DigestScheme::digest_first), 12u);
}

TEST(Handshake, PlainFormEchoesC1InS2) {
  ServerHandshake server(42, 1234);
  auto c0c1 = plain_c0c1();
  std::vector<uint8_t> out;
  auto used = server.consume(c0c1, out);
  ASSERT_TRUE(used.ok());
  EXPECT_EQ(*used, c0c1.size());
  ASSERT_EQ(out.size(), 1 + 2 * kHandshakeSize);
  EXPECT_EQ(out[0], 3);
  EXPECT_EQ(out[1], 0);  // S1 time = 1234, big-endian
  EXPECT_EQ(out[4], 0xD2);
  EXPECT_EQ(out[5] | out[6] | out[7] | out[8], 0);  // S1 version zero in the plain form
  EXPECT_TRUE(std::equal(out.begin() + 1 + kHandshakeSize, out.end(), c0c1.begin() + 1));
  EXPECT_FALSE(server.used_digest());
  EXPECT_FALSE(server.done());

  // C2 then the first chunk bytes: the handshake takes only C2.
  std::vector<uint8_t> c2(kHandshakeSize + 3, 0);
  auto used2 = server.consume(c2, out);
  ASSERT_TRUE(used2.ok());
  EXPECT_EQ(*used2, kHandshakeSize);
  EXPECT_TRUE(server.done());
}

TEST(Handshake, AcceptsByteAtATimeInput) {
  ServerHandshake server;
  auto all = plain_c0c1();
  all.resize(all.size() + kHandshakeSize, 0x55);
  std::vector<uint8_t> out;
  for (size_t i = 0; i < all.size(); ++i) {
    auto used = server.consume(std::span(all).subspan(i, 1), out);
    ASSERT_TRUE(used.ok());
    ASSERT_EQ(*used, 1u);
    EXPECT_EQ(out.empty(), i < kHandshakeSize);
  }
  EXPECT_TRUE(server.done());
  EXPECT_EQ(out.size(), 1 + 2 * kHandshakeSize);
}

TEST(Handshake, RejectsOtherVersions) {
  for (int v : {0, 6, 0x16, int{'G'}}) {
    ServerHandshake server;
    std::vector<uint8_t> in(1537, 0);
    in[0] = static_cast<uint8_t>(v);
    std::vector<uint8_t> out;
    auto used = server.consume(in, out);
    ASSERT_FALSE(used.ok());
    EXPECT_EQ(used.error().message.rfind("rtmp handshake: client version " + std::to_string(v) + ", expected 3", 0),
              0u);
    EXPECT_TRUE(out.empty());
  }
}

void check_digest_response(DigestScheme scheme) {
  auto c0c1 = digest_c0c1(scheme);
  HandshakeBlock c1(c0c1.data() + 1, kHandshakeSize);
  ASSERT_TRUE(has_valid_digest(c1, scheme, genuine_fp_key().first(kFpKeyTextSize)));

  ServerHandshake server(7, 99);
  std::vector<uint8_t> out;
  ASSERT_TRUE(server.consume(c0c1, out).ok());
  ASSERT_EQ(out.size(), 1 + 2 * kHandshakeSize);
  EXPECT_TRUE(server.used_digest());
  HandshakeBlock s1(out.data() + 1, kHandshakeSize);
  const uint8_t* s2 = out.data() + 1 + kHandshakeSize;

  // S1: non-zero version, digest with the first 36 bytes of the FMS key, same layout.
  EXPECT_NE(s1[4], 0);
  size_t s1_off = digest_offset(s1, scheme);
  std::vector<uint8_t> joined(s1.begin(), s1.end());
  joined.erase(joined.begin() + static_cast<std::ptrdiff_t>(s1_off),
               joined.begin() + static_cast<std::ptrdiff_t>(s1_off + 32));
  Digest s1_digest = openssl_hmac(genuine_fms_key().first(kFmsKeyTextSize), joined);
  EXPECT_EQ(0, std::memcmp(s1_digest.data(), s1.data() + s1_off, 32));

  // S2: last 32 bytes = HMAC(HMAC(full FMS key, C1 digest), S2[0..1504)) -- what
  // ffmpeg checks ("Signature mismatch" otherwise).
  size_t c1_off = digest_offset(c1, scheme);
  Digest key = openssl_hmac(genuine_fms_key(), std::span(c1.data() + c1_off, 32));
  Digest sig = openssl_hmac(key, std::span(s2, kHandshakeSize - 32));
  EXPECT_EQ(0, std::memcmp(sig.data(), s2 + kHandshakeSize - 32, 32));
}

TEST(Handshake, AnswersDigestSchemeZero) { check_digest_response(DigestScheme::key_first); }
TEST(Handshake, AnswersDigestSchemeOne) { check_digest_response(DigestScheme::digest_first); }

TEST(Handshake, FallsBackToPlainWhenTheDigestIsWrong) {
  auto c0c1 = digest_c0c1(DigestScheme::digest_first);
  HandshakeBlock c1(c0c1.data() + 1, kHandshakeSize);
  size_t off = digest_offset(c1, DigestScheme::digest_first);
  c0c1[1 + off] ^= 1;  // break the digest
  ServerHandshake server;
  std::vector<uint8_t> out;
  ASSERT_TRUE(server.consume(c0c1, out).ok());
  EXPECT_FALSE(server.used_digest());
  EXPECT_TRUE(std::equal(out.begin() + 1 + kHandshakeSize, out.end(), c0c1.begin() + 1));
}

TEST(Handshake, ClientAndServerComplete) {
  ClientHandshake client(1);
  ServerHandshake server(2);
  std::vector<uint8_t> to_server = client.start();
  ASSERT_EQ(to_server.size(), 1537u);
  std::vector<uint8_t> to_client;
  ASSERT_TRUE(server.consume(to_server, to_client).ok());
  std::vector<uint8_t> c2;
  auto used = client.consume(to_client, c2);
  ASSERT_TRUE(used.ok());
  EXPECT_EQ(*used, to_client.size());
  EXPECT_TRUE(client.done());
  ASSERT_EQ(c2.size(), kHandshakeSize);
  EXPECT_TRUE(std::equal(c2.begin(), c2.end(), to_client.begin() + 1));  // C2 echoes S1
  std::vector<uint8_t> none;
  ASSERT_TRUE(server.consume(c2, none).ok());
  EXPECT_TRUE(server.done());
  EXPECT_TRUE(none.empty());
}

TEST(Handshake, ClientRejectsBadServerVersion) {
  ClientHandshake client;
  client.start();
  std::vector<uint8_t> bad(10, 9);
  std::vector<uint8_t> out;
  EXPECT_FALSE(client.consume(bad, out).ok());
}

}  // namespace
}  // namespace anchorcast::rtmp
