// SendBatch on real loopback sockets: what leaves is exactly the datagrams committed, in
// order, per receiver — whether or not runs are coalesced into UDP GSO messages — and
// runs are coalesced only where UDP_SEGMENT can cut them back apart.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <vector>

#include "relay/egress/webrtc/udp_socket.hpp"

namespace anchorcast::webrtc {
namespace {

using Bytes = std::vector<uint8_t>;

class Receiver {
 public:
  Receiver() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    int bytes = 4 << 20;
    setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
    address_.length = sizeof address_.storage;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&address_.storage), &address_.length);
  }
  ~Receiver() { ::close(fd_); }
  const PeerAddress& address() const { return address_; }

  // Every datagram that arrives until none has for 200 ms (they are already queued on
  // loopback when flush() returns; the quiet period only ends the read).
  std::vector<Bytes> drain() {
    std::vector<Bytes> out;
    for (;;) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 200) <= 0) return out;
      Bytes d(65536);
      ssize_t n = ::recv(fd_, d.data(), d.size(), 0);
      if (n < 0) return out;
      d.resize(static_cast<size_t>(n));
      out.push_back(std::move(d));
    }
  }

 private:
  int fd_ = -1;
  PeerAddress address_;
};

UdpSocket bind_sender() {
  auto s = UdpSocket::bind(ListenAddress{"127.0.0.1", 0});
  EXPECT_TRUE(s) << s.error().message;
  return std::move(*s);
}

Bytes datagram(size_t size, uint8_t tag) {
  Bytes d(size);
  for (size_t i = 0; i < size; ++i) d[i] = static_cast<uint8_t>(tag + i);
  return d;
}

struct Plan {
  size_t size;
  int receiver;
};

// The shapes the WebRTC session produces: a frame's FU-A run (equal sizes, shorter last),
// audio between frames, two viewers interleaved, a run longer than the segment limit.
std::vector<Plan> mixed_plan() {
  std::vector<Plan> plan;
  for (int frame = 0; frame < 3; ++frame) {
    for (int k = 0; k < 5; ++k) plan.push_back({1216, 0});
    plan.push_back({700, 0});
    plan.push_back({180, 0});  // audio: different size, same viewer
    for (int k = 0; k < 3; ++k) plan.push_back({1216, 1});
    plan.push_back({1216, 0});  // back to viewer 0 after viewer 1
  }
  plan.push_back({300, 1});
  plan.push_back({500, 1});  // larger than the previous: cannot extend it
  for (int k = 0; k < 80; ++k) plan.push_back({1000, 0});  // > kMaxSegments in a row
  return plan;
}

struct Outcome {
  std::map<int, std::vector<Bytes>> received;
  std::map<int, std::vector<Bytes>> expected;
  uint64_t datagrams = 0, messages = 0, refused = 0;
};

Outcome run(bool gso, const std::vector<Plan>& plan) {
  UdpSocket sender = bind_sender();
  Receiver receivers[2];
  SendBatch batch(sender, gso);
  Outcome o;
  uint8_t tag = 0;
  for (const Plan& p : plan) {
    Bytes d = datagram(p.size, tag++);
    auto slot = batch.slot();
    std::copy(d.begin(), d.end(), slot.begin());
    batch.commit(d.size(), receivers[p.receiver].address());
    o.expected[p.receiver].push_back(std::move(d));
  }
  o.refused = batch.flush();
  o.datagrams = batch.datagrams_sent();
  o.messages = batch.messages_sent();
  for (int r = 0; r < 2; ++r) o.received[r] = receivers[r].drain();
  return o;
}

TEST(SendBatch, WithoutGsoEveryDatagramIsItsOwnMessage) {
  auto plan = mixed_plan();
  Outcome o = run(false, plan);
  EXPECT_EQ(o.refused, 0u);
  EXPECT_EQ(o.datagrams, plan.size());
  EXPECT_EQ(o.messages, plan.size());
  EXPECT_EQ(o.received, o.expected);
}

TEST(SendBatch, GsoDeliversTheSameDatagramsInOrderWithFewerMessages) {
  UdpSocket probe = bind_sender();
  if (!probe.gso_supported()) GTEST_FAIL() << "this kernel has no UDP_SEGMENT (Linux < 4.18)";
  auto plan = mixed_plan();
  Outcome o = run(true, plan);
  EXPECT_EQ(o.refused, 0u);
  EXPECT_EQ(o.datagrams, plan.size());
  EXPECT_EQ(o.received, o.expected);  // segmented back into the very datagrams committed
  // Messages: frame 0's 5×1216 + 700; then per frame 180 | viewer 1's 3×1216 | viewer 0's
  // 1216 that the next frame's 5×1216 + 700 extends (3 × 3); 300 | 500 (it is larger);
  // 80×1000 as 64 + 16 (the segment limit). 1 + 9 + 2 + 2 = 14 for 115 datagrams.
  EXPECT_EQ(o.messages, 14u);
}

TEST(SendBatch, GsoNeverMergesAcrossPeersOrGrowingSizes) {
  UdpSocket probe = bind_sender();
  if (!probe.gso_supported()) GTEST_FAIL() << "this kernel has no UDP_SEGMENT (Linux < 4.18)";
  // Alternating peers, and sizes that grow: nothing can be coalesced.
  std::vector<Plan> plan = {{100, 0}, {100, 1}, {100, 0}, {200, 0}, {300, 0}, {300, 1}, {400, 1}};
  Outcome o = run(true, plan);
  EXPECT_EQ(o.messages, plan.size());
  EXPECT_EQ(o.received, o.expected);
}

TEST(SendBatch, SignallingCopiesKeepTheirOrderAmongMedia) {
  UdpSocket sender = bind_sender();
  Receiver r;
  SendBatch batch(sender, true);
  Bytes stun = datagram(88, 1), media = datagram(1216, 2), dtls = datagram(1216, 3);
  batch.send(stun, r.address());
  batch.send(media, r.address());
  batch.send(dtls, r.address());
  EXPECT_EQ(batch.flush(), 0u);
  EXPECT_EQ(r.drain(), (std::vector<Bytes>{stun, media, dtls}));
}

}  // namespace
}  // namespace anchorcast::webrtc
