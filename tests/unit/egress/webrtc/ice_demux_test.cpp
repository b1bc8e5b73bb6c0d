// The WebRTC UDP port as a stranger, a viewer and an attacker see it: a real
// WebRtcServer on loopback, STUN checks from real sockets. Every wait polls a counter or
// a socket with a deadline.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <thread>

#include "anchorcast/hub/hub.hpp"
#include "relay/egress/webrtc/feed/rtp_feed.hpp"
#include "relay/egress/webrtc/ice_lite_agent.hpp"
#include "relay/egress/webrtc/webrtc_server.hpp"
#include "relay/protocol/stun/stun_builder.hpp"
#include "relay/protocol/stun/stun_message.hpp"

namespace anchorcast::webrtc {
namespace {

using Bytes = std::vector<uint8_t>;
using namespace std::chrono_literals;

class Client {
 public:
  explicit Client(uint16_t server_port) {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(server_port);
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    EXPECT_EQ(::connect(fd_, reinterpret_cast<sockaddr*>(&to), sizeof to), 0);
  }
  ~Client() { ::close(fd_); }
  void send(const Bytes& d) const { ASSERT_EQ(::send(fd_, d.data(), d.size(), 0), ssize_t(d.size())); }
  std::optional<Bytes> receive(std::chrono::milliseconds timeout) const {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) return std::nullopt;
    Bytes b(2048);
    ssize_t n = ::recv(fd_, b.data(), b.size(), 0);
    if (n < 0) return std::nullopt;
    b.resize(static_cast<size_t>(n));
    return b;
  }

 private:
  int fd_ = -1;
};

Bytes binding_request(const std::string& username, const std::string& password, uint8_t id) {
  stun::BindingRequest r;
  r.transaction_id.fill(id);
  r.username = username;
  r.integrity_key = password;
  r.priority = 1;
  r.use_candidate = true;
  r.ice_controlling = 42;
  Bytes out;
  EXPECT_TRUE(stun::build_binding_request(r, out).ok());
  return out;
}

struct Viewer {
  IceCredentials ice = IceCredentials::generate().value();
  std::string session_id;
};

class IceDemux : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(hub.add("s", "key-of-s").ok());
    stream = hub.find("s");
    feed = RtpFeed::create(stream, "s/main");
    media_loop.start();
    ASSERT_TRUE(server.listen({"127.0.0.1", 0}).ok());
    server.start();
    a.session_id = "session-a";
    b.session_id = "session-b";
    add(a);
    add(b);
  }
  void TearDown() override { server.stop(); }

  void add(const Viewer& v) {
    SessionSetup s;
    s.id = v.session_id;
    s.stream_id = "s";
    s.local = v.ice;
    s.remote_ufrag = "them";
    s.remote_fingerprint = {"sha-256", "00"};
    s.stream = stream;
    s.feed = feed;
    s.video_payload_type = 102;
    s.audio_payload_type = 111;
    server.add_session(std::move(s));
  }
  Counter& drops(const char* reason) {
    return metrics.counter("anchorcast_webrtc_dropped_datagrams_total",
                           "WebRTC datagrams dropped on the UDP port, by reason", {{"reason", reason}});
  }
  // Polls until `counter` reached `at_least` (the I/O thread counts after processing).
  bool wait_count(Counter& counter, uint64_t at_least) {
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (counter.value() < at_least) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(2ms);
    }
    return true;
  }
  // A Binding request with the right password gets a success signed with that password.
  void expect_answered(const Client& c, const Viewer& v, uint8_t id) {
    c.send(binding_request(v.ice.ufrag + ":them", v.ice.pwd, id));
    auto reply = c.receive(5s);
    ASSERT_TRUE(reply) << "no answer to a valid check";
    auto m = stun::parse_stun(*reply);
    ASSERT_TRUE(m.ok()) << m.error().message;
    EXPECT_EQ(m->message_class, stun::MessageClass::success);
    EXPECT_EQ(m->transaction_id[0], id) << "the answer is to an earlier request";
    EXPECT_TRUE(stun::verify_message_integrity(*reply, *m, v.ice.pwd));
    EXPECT_TRUE(m->has_fingerprint);
    ASSERT_TRUE(m->xor_mapped_address);
  }

  Metrics metrics;
  Hub hub;
  std::shared_ptr<Stream> stream;
  std::shared_ptr<RtpFeed> feed;
  EventLoop media_loop;
  WebRtcServer server{metrics, {&media_loop}};
  Viewer a, b;
};

TEST_F(IceDemux, AnswersValidChecksPerSessionByUsername) {
  Client ca(server.port()), cb(server.port());
  expect_answered(ca, a, 1);
  expect_answered(cb, b, 2);
  EXPECT_EQ(server.session_count(), 2u);
}

TEST_F(IceDemux, WrongPasswordIsDroppedAndCountedNeverAnswered) {
  Client ca(server.port());
  Counter& bad = drops("stun_bad_integrity");
  ca.send(binding_request(a.ice.ufrag + ":them", "not-the-password-of-a-session", 9));
  ASSERT_TRUE(wait_count(bad, 1));
  // The next reply on this socket must answer the valid check, not the forged one.
  expect_answered(ca, a, 10);
  // B's password does not open A either.
  ca.send(binding_request(a.ice.ufrag + ":them", b.ice.pwd, 11));
  ASSERT_TRUE(wait_count(bad, 2));
  expect_answered(ca, a, 12);
}

TEST_F(IceDemux, UnknownUsernameAndStrangersAreDroppedAndCounted) {
  Client stranger(server.port());
  Counter& unknown_user = drops("stun_unknown_username");
  Counter& malformed = drops("stun_malformed");
  Counter& dtls_unknown = drops("dtls_unknown_peer");
  Counter& rtp_unknown = drops("rtp_unknown_peer");
  Counter& unknown_protocol = drops("unknown_protocol");
  stranger.send(binding_request("nobody:them", "whatever-password-123456", 1));
  ASSERT_TRUE(wait_count(unknown_user, 1));
  std::mt19937 rng(5);
  auto junk = [&](uint8_t first, size_t n) {
    Bytes d(n);
    for (auto& x : d) x = static_cast<uint8_t>(rng());
    d[0] = first;
    return d;
  };
  for (int i = 0; i < 10; ++i) {
    stranger.send(junk(0, 40));    // STUN class, no magic cookie
    stranger.send(junk(22, 60));   // DTLS handshake record
    stranger.send(junk(0x80, 80)); // RTP/RTCP
    stranger.send(junk(100, 30));  // no RFC 7983 class
  }
  ASSERT_TRUE(wait_count(malformed, 10));
  ASSERT_TRUE(wait_count(dtls_unknown, 10));
  ASSERT_TRUE(wait_count(rtp_unknown, 10));
  ASSERT_TRUE(wait_count(unknown_protocol, 10));
  EXPECT_FALSE(stranger.receive(0ms)) << "a stranger got an answer";
}

TEST_F(IceDemux, TruncatedStunDtlsAndRtcpFromOneSessionLeaveTheOtherAlone) {
  Client ca(server.port()), cb(server.port());
  expect_answered(ca, a, 1);  // the server now knows ca's 5-tuple as session A's
  expect_answered(cb, b, 2);
  Counter& malformed = drops("stun_malformed");
  Counter& dtls_invalid = drops("dtls_invalid");
  Counter& rtcp_invalid = drops("rtcp_invalid");
  Bytes check = binding_request(a.ice.ufrag + ":them", a.ice.pwd, 3);
  for (size_t n : {size_t(1), size_t(19), size_t(20), size_t(28), check.size() - 1}) ca.send(Bytes(check.begin(), check.begin() + n));
  ca.send(Bytes{22, 0xFE, 0xFD, 0, 0});                      // a DTLS record header cut short
  ca.send(Bytes{22, 0xFE, 0xFD, 0, 0, 0, 0, 0, 0, 0, 0, 0}); // one byte short of a header
  ca.send(Bytes{0x80, 200, 0, 6, 1, 2});                     // SRTCP cut short (no keys yet either)
  ca.send(Bytes{0x81, 205, 0, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 1, 0, 0, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9});
  ASSERT_TRUE(wait_count(malformed, 5));
  ASSERT_TRUE(wait_count(dtls_invalid, 2));
  ASSERT_TRUE(wait_count(rtcp_invalid, 2));
  EXPECT_EQ(server.session_count(), 2u);
  expect_answered(cb, b, 4);  // B never noticed
  expect_answered(ca, a, 5);  // and A is still there
}

TEST_F(IceDemux, DeleteEndsTheSessionAndItsUsernameStopsWorking) {
  Client ca(server.port());
  expect_answered(ca, a, 1);
  EXPECT_FALSE(server.remove_session("other-stream", a.session_id)) << "a session of another stream";
  EXPECT_TRUE(server.remove_session("s", a.session_id));
  EXPECT_FALSE(server.remove_session("s", a.session_id));
  Counter& unknown_user = drops("stun_unknown_username");
  uint64_t before = unknown_user.value();
  ca.send(binding_request(a.ice.ufrag + ":them", a.ice.pwd, 2));
  ASSERT_TRUE(wait_count(unknown_user, before + 1));
  EXPECT_EQ(server.session_count(), 1u);
}

TEST(IceLiteAgent, ConsentExpiresThirtySecondsAfterTheLastValidCheck) {
  auto t0 = IceLiteAgent::Clock::time_point{} + std::chrono::hours(1);
  IceCredentials local = IceCredentials::generate().value();
  IceLiteAgent agent(local, "them", t0);
  EXPECT_FALSE(agent.consent_expired(t0 + 29s));
  EXPECT_TRUE(agent.consent_expired(t0 + 31s)) << "a session that never completes ICE is freed too";

  stun::BindingRequest r;
  r.transaction_id.fill(7);
  std::string username = local.ufrag + ":them";
  r.username = username;
  r.integrity_key = local.pwd;
  Bytes request;
  ASSERT_TRUE(stun::build_binding_request(r, request).ok());
  auto parsed = stun::parse_stun(request);
  ASSERT_TRUE(parsed.ok());
  PeerAddress from;
  from.storage.ss_family = AF_INET;
  from.length = sizeof(sockaddr_in);
  Bytes response;
  EXPECT_EQ(agent.on_stun(request, *parsed, from, t0 + 20s, response), IceLiteAgent::Check::answered);
  EXPECT_TRUE(agent.selected().has_value());
  EXPECT_FALSE(agent.consent_expired(t0 + 45s));
  EXPECT_TRUE(agent.consent_expired(t0 + 51s));
}

TEST(IceCredentials, AreIceCharsOfTheRfcLengthsAndFresh) {
  auto a = IceCredentials::generate().value();
  auto b = IceCredentials::generate().value();
  EXPECT_EQ(a.ufrag.size(), 8u);
  EXPECT_EQ(a.pwd.size(), 24u);  // RFC 8839 5.4: at least 22
  EXPECT_NE(a.pwd, b.pwd);
  for (char c : a.ufrag + a.pwd) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/');
}

}  // namespace
}  // namespace anchorcast::webrtc
