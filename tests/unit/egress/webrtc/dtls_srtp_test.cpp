// DTLS-SRTP between our DtlsTransport (server) and a plain OpenSSL DTLS client, in
// process over memory BIOs, then SRTP both ways with the exported keys.
#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/srtp.h>

#include <deque>
#include <optional>
#include <thread>
#include <vector>

#include "relay/egress/webrtc/dtls_certificate.hpp"
#include "relay/egress/webrtc/dtls_transport.hpp"
#include "relay/egress/webrtc/srtp_session.hpp"

namespace anchorcast::webrtc {
namespace {

using Bytes = std::vector<uint8_t>;

// A browser stand-in written against OpenSSL directly, not against our classes.
class OpenSslDtlsClient {
 public:
  OpenSslDtlsClient(const DtlsCertificate& cert, const char* srtp_profiles) {
    ctx_.reset(SSL_CTX_new(DTLS_client_method()));
    SSL_CTX_use_certificate(ctx_.get(), cert.x509());
    SSL_CTX_use_PrivateKey(ctx_.get(), cert.key());
    EXPECT_EQ(SSL_CTX_set_tlsext_use_srtp(ctx_.get(), srtp_profiles), 0);
    SSL_CTX_set_verify(ctx_.get(), SSL_VERIFY_PEER, [](int, X509_STORE_CTX*) { return 1; });
    ssl_.reset(SSL_new(ctx_.get()));
    in_ = BIO_new(BIO_s_mem());
    out_ = BIO_new(BIO_s_mem());
    BIO_set_mem_eof_return(in_, -1);
    BIO_set_mem_eof_return(out_, -1);
    SSL_set_bio(ssl_.get(), in_, out_);
    SSL_set_connect_state(ssl_.get());
  }
  void step() {
    if (!done_) done_ = SSL_do_handshake(ssl_.get()) == 1;
    ERR_clear_error();
  }
  void receive(const Bytes& datagram) {
    BIO_write(in_, datagram.data(), static_cast<int>(datagram.size()));
    step();
  }
  std::optional<Bytes> take_output() {
    size_t n = BIO_ctrl_pending(out_);
    if (n == 0) return std::nullopt;
    Bytes b(n);
    BIO_read(out_, b.data(), static_cast<int>(n));
    return b;
  }
  bool done() const { return done_; }
  void write(const Bytes& data) { EXPECT_EQ(SSL_write(ssl_.get(), data.data(), static_cast<int>(data.size())), int(data.size())); }
  std::optional<Bytes> read() {
    Bytes b(16384);
    int n = SSL_read(ssl_.get(), b.data(), static_cast<int>(b.size()));
    ERR_clear_error();
    if (n <= 0) return std::nullopt;
    b.resize(static_cast<size_t>(n));
    return b;
  }
  X509Ptr peer_certificate() { return X509Ptr(SSL_get1_peer_certificate(ssl_.get())); }
  // RFC 5764 4.2 layout; the client sends with the client key.
  std::pair<SrtpMasterKey, SrtpMasterKey> client_and_server_keys(SrtpProfile profile) {
    size_t k = srtp_key_length(profile), s = srtp_salt_length(profile);
    unsigned char m[60];
    EXPECT_EQ(SSL_export_keying_material(ssl_.get(), m, 2 * (k + s), "EXTRACTOR-dtls_srtp", 19, nullptr, 0, 0), 1);
    SrtpMasterKey c, sv;
    std::copy(m, m + k, c.bytes.begin());
    std::copy(m + k, m + 2 * k, sv.bytes.begin());
    std::copy(m + 2 * k, m + 2 * k + s, c.bytes.begin() + k);
    std::copy(m + 2 * k + s, m + 2 * k + 2 * s, sv.bytes.begin() + k);
    c.size = sv.size = k + s;
    return {c, sv};
  }

 private:
  SslCtxPtr ctx_;
  SslPtr ssl_;
  BIO* in_ = nullptr;
  BIO* out_ = nullptr;
  bool done_ = false;
};

struct Handshake {
  DtlsCertificate server_cert = DtlsCertificate::generate("server").value();
  DtlsCertificate client_cert = DtlsCertificate::generate("client").value();
  DtlsContext server_ctx = DtlsContext::create(server_cert, DtlsRole::server).value();
  std::deque<Bytes> to_client;
  std::unique_ptr<DtlsTransport> server;
  std::optional<OpenSslDtlsClient> client;
  std::vector<std::string> server_errors;

  // `expected_fingerprint` unset: the client certificate's real one.
  explicit Handshake(const char* client_profiles, std::optional<std::string> expected_fingerprint = std::nullopt) {
    server = DtlsTransport::create(server_ctx,
                                   {"sha-256", expected_fingerprint.value_or(client_cert.sha256_fingerprint())},
                                   [this](std::span<const uint8_t> d) { to_client.emplace_back(d.begin(), d.end()); })
                 .value();
    client.emplace(client_cert, client_profiles);
  }
  // Exchanges flights until neither side has anything to say.
  void run() {
    client->step();
    for (int round = 0; round < 20; ++round) {
      bool moved = false;
      while (auto out = client->take_output()) {
        moved = true;
        if (auto st = server->receive(*out); !st) server_errors.push_back(st.error().message);
      }
      while (!to_client.empty()) {
        moved = true;
        Bytes d = std::move(to_client.front());
        to_client.pop_front();
        EXPECT_LE(d.size(), DtlsTransport::kMtu);
        client->receive(d);
      }
      if (!moved) return;
    }
  }
};

Bytes rtp_packet(uint16_t seq, size_t payload_size) {
  Bytes p = {0x80, 96, uint8_t(seq >> 8), uint8_t(seq), 0, 0, 0x10, 0, 0x12, 0x34, 0x56, 0x78};
  for (size_t i = 0; i < payload_size; ++i) p.push_back(static_cast<uint8_t>(i * 7));
  return p;
}

Bytes rtcp_receiver_report() {
  // RR with no report blocks: V=2, PT=201, length 1 (8 bytes), sender SSRC.
  return {0x80, 201, 0, 1, 0xDE, 0xAD, 0xBE, 0xEF};
}

TEST(DtlsCertificate, FingerprintIsSha256InSdpForm) {
  auto cert = DtlsCertificate::generate();
  ASSERT_TRUE(cert.ok()) << cert.error().message;
  const std::string& fp = cert->sha256_fingerprint();
  ASSERT_EQ(fp.size(), 32u * 3 - 1);
  for (size_t i = 0; i < fp.size(); ++i) {
    if (i % 3 == 2)
      EXPECT_EQ(fp[i], ':');
    else
      EXPECT_TRUE(std::isxdigit(static_cast<unsigned char>(fp[i])) && !std::islower(static_cast<unsigned char>(fp[i])));
  }
  EXPECT_NE(DtlsCertificate::generate()->sha256_fingerprint(), fp) << "a fresh key per certificate";
  EXPECT_FALSE(certificate_fingerprint(cert->x509(), "md5").ok());
}

class DtlsSrtpProfiles : public ::testing::TestWithParam<std::pair<const char*, SrtpProfile>> {};

TEST_P(DtlsSrtpProfiles, HandshakeKeysSrtpBothWays) {
  auto [client_profiles, profile] = GetParam();
  Handshake h(client_profiles);
  h.run();
  ASSERT_TRUE(h.server_errors.empty()) << h.server_errors.front();
  ASSERT_TRUE(h.client->done());
  ASSERT_EQ(h.server->state(), DtlsTransport::State::connected);
  ASSERT_TRUE(h.server->srtp_keys().has_value());
  const SrtpKeys& keys = *h.server->srtp_keys();
  EXPECT_EQ(keys.profile, profile);
  // The client sees our certificate, the one the answer's fingerprint names.
  X509Ptr seen = h.client->peer_certificate();
  ASSERT_TRUE(seen);
  EXPECT_EQ(certificate_fingerprint(seen.get(), "sha-256").value(), h.server_cert.sha256_fingerprint());

  auto [client_key, server_key] = h.client->client_and_server_keys(profile);
  // Server → client: RTP.
  auto server_out = SrtpSession::create(SrtpSession::Direction::outbound, profile, keys.local.span()).value();
  auto client_in = SrtpSession::create(SrtpSession::Direction::inbound, profile, server_key.span()).value();
  for (uint16_t seq = 1000; seq < 1010; ++seq) {
    Bytes plain = rtp_packet(seq, 900);
    auto sealed = server_out.protect_rtp(plain);
    ASSERT_TRUE(sealed.ok()) << sealed.error().message;
    EXPECT_GT(sealed->size(), plain.size());
    Bytes wire(sealed->begin(), sealed->end());
    auto opened = client_in.unprotect_rtp(wire);
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    EXPECT_EQ(Bytes(opened->begin(), opened->end()), plain);
  }
  // Client → server: RTCP (receiver reports, NACK, PLI travel this way).
  auto client_out = SrtpSession::create(SrtpSession::Direction::outbound, profile, client_key.span()).value();
  auto server_in = SrtpSession::create(SrtpSession::Direction::inbound, profile, keys.remote.span()).value();
  Bytes rr = rtcp_receiver_report();
  auto sealed = client_out.protect_rtcp(rr);
  ASSERT_TRUE(sealed.ok());
  Bytes wire(sealed->begin(), sealed->end());
  auto opened = server_in.unprotect_rtcp(wire);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_EQ(Bytes(opened->begin(), opened->end()), rr);
}

INSTANTIATE_TEST_SUITE_P(Profiles, DtlsSrtpProfiles,
                         ::testing::Values(std::make_pair("SRTP_AES128_CM_SHA1_80", SrtpProfile::aes128_cm_sha1_80),
                                           std::make_pair("SRTP_AEAD_AES_128_GCM", SrtpProfile::aead_aes_128_gcm),
                                           // Chromium's order: GCM first, CM as the fallback.
                                           std::make_pair("SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80",
                                                          SrtpProfile::aead_aes_128_gcm)));

TEST(DtlsTransport, RefusesAPeerWhoseCertificateDoesNotMatchTheFingerprint) {
  DtlsCertificate other = DtlsCertificate::generate("someone else").value();
  Handshake h("SRTP_AES128_CM_SHA1_80", other.sha256_fingerprint());
  h.run();
  EXPECT_EQ(h.server->state(), DtlsTransport::State::failed);
  ASSERT_FALSE(h.server_errors.empty());
  EXPECT_NE(h.server_errors.front().find("fingerprint"), std::string::npos) << h.server_errors.front();
  EXPECT_FALSE(h.server->srtp_keys().has_value());
}

TEST(DtlsTransport, RetransmitsItsFlightWhenTheClientNeverAnswers) {
  Handshake h("SRTP_AES128_CM_SHA1_80");
  h.client->step();
  auto hello = h.client->take_output();
  ASSERT_TRUE(hello);
  ASSERT_TRUE(h.server->receive(*hello).ok());
  ASSERT_FALSE(h.to_client.empty());
  size_t first_flight = h.to_client.size();
  h.to_client.clear();  // the flight is lost
  auto wait = h.server->timeout();
  ASSERT_TRUE(wait.has_value());
  EXPECT_LE(wait->count(), 1000);
  // Pretend the timer fired: OpenSSL checks the real clock, so wait it out.
  std::this_thread::sleep_for(*wait + std::chrono::milliseconds(20));
  h.server->on_timeout();
  EXPECT_EQ(h.to_client.size(), first_flight);
}

TEST(DtlsTransport, GarbageAndTruncatedRecordsDoNotBreakTheHandshake) {
  Handshake h("SRTP_AES128_CM_SHA1_80");
  Bytes short_record = {22, 0xFE, 0xFD, 0, 0};
  EXPECT_FALSE(h.server->receive(short_record).ok());
  Bytes bogus_length = {22, 0xFE, 0xFD, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 1, 2, 3};
  (void)h.server->receive(bogus_length);
  EXPECT_NE(h.server->state(), DtlsTransport::State::connected);
  h.run();
  EXPECT_EQ(h.server->state(), DtlsTransport::State::connected) << "garbage before the ClientHello broke the handshake";
  EXPECT_TRUE(h.client->done());
}

// RFC 8261: SCTP rides DTLS application data, one packet per record.
TEST(DtlsTransport, CarriesApplicationRecordsBothWays) {
  Handshake h("SRTP_AEAD_AES_128_GCM");
  std::vector<Bytes> records;
  h.server->set_data_handler([&](std::span<const uint8_t> r) { records.emplace_back(r.begin(), r.end()); });
  EXPECT_FALSE(h.server->write(Bytes{1}).ok());  // not before the handshake
  h.run();
  ASSERT_EQ(h.server->state(), DtlsTransport::State::connected);

  // Two records in one datagram arrive as two.
  const Bytes small{1, 2, 3}, large(1100, 7);
  h.client->write(small);
  h.client->write(large);
  auto datagram = h.client->take_output();
  ASSERT_TRUE(datagram);
  ASSERT_TRUE(h.server->receive(*datagram).ok());
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0], small);
  EXPECT_EQ(records[1], large);

  ASSERT_TRUE(h.server->write(Bytes{9, 8}).ok());
  ASSERT_EQ(h.to_client.size(), 1u);
  h.client->receive(h.to_client.front());
  EXPECT_EQ(h.client->read(), (Bytes{9, 8}));
  EXPECT_FALSE(h.server->write(Bytes(20000, 0)).ok());  // larger than a record

  // A tampered application record is dropped by DTLS; the association stays up.
  h.client->write(small);
  auto tampered = h.client->take_output();
  ASSERT_TRUE(tampered);
  tampered->back() ^= 0x55;
  (void)h.server->receive(*tampered);
  EXPECT_EQ(records.size(), 2u);
  EXPECT_EQ(h.server->state(), DtlsTransport::State::connected);
}

class SrtpProfiles : public ::testing::TestWithParam<SrtpProfile> {};

TEST_P(SrtpProfiles, ProtectUnprotectAndTamperDetection) {
  SrtpProfile profile = GetParam();
  Bytes key(srtp_key_length(profile) + srtp_salt_length(profile));
  for (size_t i = 0; i < key.size(); ++i) key[i] = static_cast<uint8_t>(i * 13 + 1);
  auto out = SrtpSession::create(SrtpSession::Direction::outbound, profile, key).value();
  auto in = SrtpSession::create(SrtpSession::Direction::inbound, profile, key).value();

  Bytes plain = rtp_packet(7, 1100);
  Bytes wire;
  {
    auto sealed = out.protect_rtp(plain);
    ASSERT_TRUE(sealed.ok()) << sealed.error().message;
    wire.assign(sealed->begin(), sealed->end());
  }
  // A NACK retransmission protects the same sequence number again.
  auto again = out.protect_rtp(plain);
  ASSERT_TRUE(again.ok()) << again.error().message;

  Bytes tampered = wire;
  tampered[20] ^= 1;
  EXPECT_FALSE(in.unprotect_rtp(tampered).ok());
  auto opened = in.unprotect_rtp(wire);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_EQ(Bytes(opened->begin(), opened->end()), plain);

  Bytes rr = rtcp_receiver_report();
  auto sealed_rtcp = out.protect_rtcp(rr);
  ASSERT_TRUE(sealed_rtcp.ok());
  Bytes rtcp_wire(sealed_rtcp->begin(), sealed_rtcp->end());
  Bytes truncated(rtcp_wire.begin(), rtcp_wire.begin() + 10);
  EXPECT_FALSE(in.unprotect_rtcp(truncated).ok());
  auto rtcp_opened = in.unprotect_rtcp(rtcp_wire);
  ASSERT_TRUE(rtcp_opened.ok()) << rtcp_opened.error().message;
  EXPECT_EQ(Bytes(rtcp_opened->begin(), rtcp_opened->end()), rr);
}

TEST_P(SrtpProfiles, RefusesWrongKeyLengthsAndOversizedPackets) {
  SrtpProfile profile = GetParam();
  Bytes short_key(10, 1);
  EXPECT_FALSE(SrtpSession::create(SrtpSession::Direction::outbound, profile, short_key).ok());
  Bytes key(srtp_key_length(profile) + srtp_salt_length(profile), 3);
  auto out = SrtpSession::create(SrtpSession::Direction::outbound, profile, key).value();
  EXPECT_FALSE(out.protect_rtp(Bytes(5000, 0x80)).ok());
  EXPECT_FALSE(out.protect_rtp(Bytes(4, 0x80)).ok());
  EXPECT_FALSE(out.unprotect_rtcp(std::span<uint8_t>()).ok());
}

INSTANTIATE_TEST_SUITE_P(Both, SrtpProfiles,
                         ::testing::Values(SrtpProfile::aes128_cm_sha1_80, SrtpProfile::aead_aes_128_gcm));

}  // namespace
}  // namespace anchorcast::webrtc
