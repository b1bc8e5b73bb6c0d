// The kernel's floor for WebRTC fan-out on this machine: what sending the WHEP viewers'
// datagrams costs with nothing else — no SRTP, no RTP, no sessions — through the same
// SendBatch (sendmmsg, UDP GSO runs) the server uses. A sender thread (pinned to
// --sender-cpu) sends, per viewer, a video frame every 1/30 s (--video-packets
// datagrams: full 1216-byte ones and a shorter last one, as the packetizer and SRTP make
// them) and a 180-byte Opus packet every 20 ms. A receiver thread (pinned to
// --receiver-cpu) drains N loopback sockets with epoll + recvmmsg, like loadgen_whep.
//
// Output: sender CPU µs per datagram (its thread's CPU time, kernel included), datagrams
// sent/received, and the viewers per core this floor allows at that packet rate. The
// server's own µs per datagram (loadgen_whep) divided by this is what anchorcast adds.
//
//   loadgen_udp_floor --viewers 1000 --seconds 15 [--gso 0|1] [--video-packets 3]

#include <arpa/inet.h>
#include <pthread.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "relay/egress/webrtc/udp_socket.hpp"

using namespace anchorcast;
using namespace anchorcast::webrtc;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  int viewers = 1000;
  double seconds = 15;
  bool gso = true;
  int video_packets = 3;
  int sender_cpu = 0;
  int receiver_cpu = 1;
};

void pin(int cpu) {
  if (cpu < 0) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

double thread_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return double(t.tv_sec) + double(t.tv_nsec) / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : "0"; };
    if (a == "--viewers") o.viewers = std::stoi(next());
    else if (a == "--seconds") o.seconds = std::stod(next());
    else if (a == "--gso") o.gso = std::stoi(next()) != 0;
    else if (a == "--video-packets") o.video_packets = std::max(1, std::stoi(next()));
    else if (a == "--sender-cpu") o.sender_cpu = std::stoi(next());
    else if (a == "--receiver-cpu") o.receiver_cpu = std::stoi(next());
    else {
      std::fprintf(stderr,
                   "usage: loadgen_udp_floor [--viewers N] [--seconds S] [--gso 0|1] [--video-packets K]\n"
                   "                         [--sender-cpu C] [--receiver-cpu C]\n");
      return 2;
    }
  }

  // The viewers' sockets and their addresses.
  std::vector<int> fds;
  std::vector<PeerAddress> peers(static_cast<size_t>(o.viewers));
  int ep = epoll_create1(EPOLL_CLOEXEC);
  for (int v = 0; v < o.viewers; ++v) {
    int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int rcvbuf = 1 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return std::perror("bind"), 1;
    PeerAddress& p = peers[static_cast<size_t>(v)];
    p.length = sizeof p.storage;
    getsockname(fd, reinterpret_cast<sockaddr*>(&p.storage), &p.length);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    fds.push_back(fd);
  }
  auto sender_socket = UdpSocket::bind(ListenAddress{"127.0.0.1", 0});
  if (!sender_socket) return std::fprintf(stderr, "%s\n", sender_socket.error().message.c_str()), 1;

  std::atomic<bool> stop{false};
  std::atomic<uint64_t> received{0};
  std::thread receiver([&] {
    pin(o.receiver_cpu);
    constexpr unsigned kBatch = 32;
    std::vector<uint8_t> buffers(kBatch * 2048);
    std::vector<iovec> iov(kBatch);
    std::vector<mmsghdr> headers(kBatch);
    for (unsigned k = 0; k < kBatch; ++k) {
      iov[k] = {buffers.data() + k * 2048, 2048};
      headers[k] = {};
      headers[k].msg_hdr.msg_iov = &iov[k];
      headers[k].msg_hdr.msg_iovlen = 1;
    }
    std::vector<epoll_event> events(256);
    uint64_t count = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      int n = epoll_wait(ep, events.data(), static_cast<int>(events.size()), 10);
      for (int i = 0; i < n; ++i)
        for (;;) {
          int got = recvmmsg(events[i].data.fd, headers.data(), kBatch, MSG_DONTWAIT, nullptr);
          if (got <= 0) break;
          count += static_cast<uint64_t>(got);
          if (got < static_cast<int>(kBatch)) break;
        }
      received.store(count, std::memory_order_relaxed);
    }
  });

  pin(o.sender_cpu);
  SendBatch batch(*sender_socket, o.gso);
  const auto video_interval = std::chrono::microseconds(33333), audio_interval = std::chrono::microseconds(20000);
  const auto start = Clock::now();
  auto next_video = start, next_audio = start;
  const double cpu_start = thread_cpu_seconds();
  auto fill = [&](size_t size, const PeerAddress& to) {
    auto slot = batch.slot();
    std::memset(slot.data(), 0x80, size);  // touched like a sealed packet
    batch.commit(size, to);
  };
  while (Clock::now() - start < std::chrono::duration<double>(o.seconds)) {
    auto now = Clock::now();
    if (now >= next_video) {
      for (const auto& p : peers) {
        for (int k = 0; k + 1 < o.video_packets; ++k) fill(1216, p);
        fill(700, p);
      }
      batch.flush();
      next_video += video_interval;
    }
    if (now >= next_audio) {
      for (const auto& p : peers) fill(180, p);
      batch.flush();
      next_audio += audio_interval;
    }
    std::this_thread::sleep_until(std::min(next_video, next_audio));
  }
  const double cpu = thread_cpu_seconds() - cpu_start;
  const double wall = std::chrono::duration<double>(Clock::now() - start).count();
  // Let the receiver drain what is in flight.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  stop = true;
  receiver.join();
  const double sent = double(batch.datagrams_sent());
  const double per_viewer_pps = sent / wall / o.viewers;
  const double us_per_datagram = cpu * 1e6 / sent;
  std::printf(
      "floor viewers=%d gso=%d video_packets=%d seconds=%.1f datagrams_sent=%.0f messages=%llu received=%llu "
      "refused=%llu per_viewer_pps=%.1f sender_cpu_pct=%.1f sender_us_per_datagram=%.3f viewers_per_core=%.0f\n",
      o.viewers, batch.gso() ? 1 : 0, o.video_packets, wall, sent, static_cast<unsigned long long>(batch.messages_sent()),
      static_cast<unsigned long long>(received.load()), static_cast<unsigned long long>(batch.send_failures()),
      per_viewer_pps, 100 * cpu / wall, us_per_datagram, 1e6 / (us_per_datagram * per_viewer_pps));
  for (int fd : fds) ::close(fd);
  ::close(ep);
  return 0;
}
