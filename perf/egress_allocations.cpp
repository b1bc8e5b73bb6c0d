// Counts heap allocations (operator new) on the egress hot paths, RTMP play, HTTP-FLV and
// WebRTC media, against the issue 13 rule: no allocation per packet per viewer. Some allocations do
// not depend on the audience (the packet itself, its chunked form once per loop); the
// figure that matters is the difference between 1 and N viewers, per packet per extra
// viewer. Viewers read in lockstep (every packet is read by every viewer before the
// next), so a batch holds one packet, as for a viewer that keeps up.
//
//   build/perf/egress_allocations [--viewers N] [--packets P]
//
// Prints one line per protocol; exits 1 when a protocol allocates per packet per viewer
// (more than 0.01 on average), so ctest keeps the rule. Counts operator new only: libuv
// and libc allocations are not seen (uv_try_write makes none; a queued uv_write with more
// than four buffers does, and lockstep viewers never queue).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "anchorcast/core/event_loop.hpp"
#include "anchorcast/core/log.hpp"
#include "anchorcast/core/metrics.hpp"
#include "anchorcast/core/ready_list.hpp"
#include "anchorcast/egress/flv_viewer.hpp"
#include "anchorcast/egress/rtmp_play.hpp"
#include "anchorcast/hub/hub.hpp"
#include "relay/egress/webrtc/feed/rtp_feed.hpp"
#include "relay/egress/webrtc/media_sender.hpp"
#include "relay/egress/webrtc/sender_loop.hpp"
#include "relay/egress/webrtc/webrtc_session.hpp"
#include "relay/protocol/rtmp/chunk_writer.hpp"

namespace {
std::atomic<uint64_t> g_allocations{0};
}

void* operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace anchorcast {
namespace {

constexpr uint32_t kChunkSize = 4096;

// A packet every 20 ms, four in five video (2.4 KB, a 20 KB keyframe every 300 packets)
// and one AAC (300 B): about 800 kbit/s. What is counted does not depend on the rate.
Packet packet_at(uint64_t i) {
  Packet p;
  bool video = i % 5 != 4;
  p.kind = video ? MediaKind::video : MediaKind::audio;
  p.codec = video ? Codec::h264 : Codec::aac;
  p.keyframe = !video || i % 300 == 0;
  p.time_base = kMillis;
  p.dts = p.pts = static_cast<int64_t>(i * 20);
  p.payload.assign(video ? (p.keyframe ? 20000 : 2400) : 300, 0x42);
  return p;
}

TrackSet tracks() {
  TrackSet t;
  t.video = VideoTrack{Codec::h264, 1280, 720, 30, {1, 0x64, 0, 0x1f, 0xff, 0xe0, 0}};  // no SPS/PPS in band
  t.audio = AudioTrack{Codec::aac, 48000, 2, {0x11, 0x90}};
  return t;
}

// Reads whatever is there without blocking; true if anything came.
bool drain(int fd, std::vector<char>& buf) {
  bool got = false;
  for (;;) {
    ssize_t n = recv(fd, buf.data(), buf.size(), MSG_DONTWAIT);
    if (n <= 0) return got;
    got = true;
  }
}

// A live stream on its own hub: tracks announced, no packet yet.
struct Source {
  Source() {
    if (!hub.add("demo", "key").ok()) return;
    stream = hub.find("demo");
    publisher = std::move(stream->begin_publish("rtmp").value());
    publisher->set_tracks(tracks());
  }
  bool ok() const { return publisher != nullptr; }
  Hub hub;
  std::shared_ptr<Stream> stream;
  std::unique_ptr<StreamPublisher> publisher;
};

struct Result {
  double per_packet = 0;  // allocations per packet pushed
  bool ok = true;
};

// Pushes packet after packet, the next once every viewer's socket in `fds` has read
// something of the previous one; counts the allocations of `packets` steps after a
// 600-step warm-up (joins, two GOPs, every vector at its size). Not ok: a viewer got
// nothing for 5 s.
template <class Push>
Result count_in_lockstep(const std::vector<int>& fds, int packets, Push push) {
  std::vector<char> buf(1 << 16);
  std::vector<pollfd> polls(fds.size());
  std::vector<bool> got(fds.size());
  auto step = [&](uint64_t i) {
    push(i);
    std::fill(got.begin(), got.end(), false);
    size_t waiting = fds.size();
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (waiting > 0) {
      for (size_t c = 0; c < fds.size(); ++c) polls[c] = pollfd{fds[c], got[c] ? short(0) : short(POLLIN), 0};
      poll(polls.data(), polls.size(), 100);
      for (size_t c = 0; c < fds.size(); ++c)
        if (!got[c] && (polls[c].revents & POLLIN) && drain(fds[c], buf)) {
          got[c] = true;
          --waiting;
        }
      if (std::chrono::steady_clock::now() > deadline) return false;
    }
    return true;
  };
  uint64_t i = 0;
  for (; i < 600; ++i)
    if (!step(i)) return {0, false};
  uint64_t before = g_allocations.load();
  for (int n = 0; n < packets; ++n, ++i)
    if (!step(i)) return {0, false};
  return {static_cast<double>(g_allocations.load() - before) / packets, true};
}

// ---- RTMP play: RtmpPlay on socketpairs, the loop run by hand on this thread ----

struct RtmpViewerRig : ReadyTarget {
  void on_ready() override { play->pump(); }
  int fds[2] = {-1, -1};
  uv_pipe_t pipe{};
  std::unique_ptr<RtmpPlay> play;
};

Result count_rtmp(int viewers, int packets) {
  Source source;
  if (!source.ok()) return {0, false};
  uv_loop_t loop;
  uv_loop_init(&loop);
  ReadyList ready([] {});
  RtmpPlayLoop shared;
  rtmp::ChunkWriter writer(kChunkSize);
  Counter bytes;
  std::vector<std::unique_ptr<RtmpViewerRig>> rigs;
  for (int i = 0; i < viewers; ++i) {
    auto rig = std::make_unique<RtmpViewerRig>();
    socketpair(AF_UNIX, SOCK_STREAM, 0, rig->fds);
    uv_pipe_init(&loop, &rig->pipe, 0);
    uv_pipe_open(&rig->pipe, rig->fds[0]);
    RtmpPlay::Hooks hooks;
    hooks.ended = [] {};
    hooks.failed = [](const char* why) { std::fprintf(stderr, "rtmp write failed: %s\n", why); };
    rig->play = std::make_unique<RtmpPlay>(reinterpret_cast<uv_stream_t*>(&rig->pipe), writer, 1, shared, bytes,
                                           std::move(hooks));
    rig->play->start(*source.stream, ready, *rig);
    rigs.push_back(std::move(rig));
  }
  std::vector<char> buf(1 << 16);
  auto step = [&](uint64_t i) {
    source.publisher->push(packet_at(i));
    ready.drain();
    uv_run(&loop, UV_RUN_NOWAIT);
    for (auto& r : rigs) drain(r->fds[1], buf);
  };
  uint64_t i = 0;
  for (; i < 600; ++i) step(i);  // warm-up: joins, two GOPs, every vector at its size
  uint64_t before = g_allocations.load();
  for (int n = 0; n < packets; ++n, ++i) step(i);
  uint64_t counted = g_allocations.load() - before;
  for (auto& r : rigs) {
    r->play.reset();
    uv_close(reinterpret_cast<uv_handle_t*>(&r->pipe), nullptr);
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  for (auto& r : rigs) close(r->fds[1]);
  return {static_cast<double>(counted) / packets, true};
}

// ---- HTTP-FLV: FlvViewers on one data-plane loop, over loopback TCP ----

struct TcpPair {
  int server = -1;
  int client = -1;
};

TcpPair tcp_pair(int listener, const sockaddr_in& address) {
  TcpPair pair;
  pair.client = socket(AF_INET, SOCK_STREAM, 0);
  connect(pair.client, reinterpret_cast<const sockaddr*>(&address), sizeof address);
  pair.server = accept(listener, nullptr, nullptr);
  return pair;
}

Result count_flv(int viewers, int packets) {
  Source source;
  if (!source.ok()) return {0, false};
  Metrics metrics;
  EventLoop loop;
  FlvViewers flv({&loop}, metrics);
  loop.start();

  int listener = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address);
  listen(listener, 1024);
  getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length);
  std::vector<int> clients;
  for (int i = 0; i < viewers; ++i) {
    auto pair = tcp_pair(listener, address);
    clients.push_back(pair.client);
    flv.start(pair.server, "127.0.0.1:" + std::to_string(i), source.stream);
  }
  close(listener);

  // Each packet is at least one tag for every viewer.
  Result result = count_in_lockstep(clients, packets, [&](uint64_t i) { source.publisher->push(packet_at(i)); });
  loop.stop();
  for (int fd : clients) close(fd);
  if (!result.ok) std::fprintf(stderr, "flv: a viewer got nothing for 5 s\n");
  return result;
}

// ---- WebRTC: MediaSenders on one data-plane loop, the stream's RtpFeed, UDP to sinks ----

// WebRTC needs real H.264 framing (the feed packetizes it): one AVCC NAL unit, an IDR
// every 300 packets, the rest non-IDR slices; 2.4 KB (two RTP packets), 20 KB keyframes.
Packet avcc_packet_at(uint64_t i) {
  Packet p;
  p.kind = MediaKind::video;
  p.codec = Codec::h264;
  p.keyframe = i % 300 == 0;
  p.time_base = kMillis;
  p.dts = p.pts = static_cast<int64_t>(i * 33);
  const uint32_t nal = p.keyframe ? 20000 : 2400;
  p.payload.assign(4 + nal, 0x42);
  for (int b = 0; b < 4; ++b) p.payload[b] = static_cast<uint8_t>(nal >> (24 - 8 * b));
  p.payload[4] = p.keyframe ? 0x65 : 0x41;
  return p;
}

int udp_sink(sockaddr_in& address) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  address = {};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  return fd;
}

Result count_webrtc(int viewers, int packets) {
  using namespace webrtc;
  Source source;
  if (!source.ok()) return {0, false};
  Metrics metrics;
  auto counter = [&](const char* name) -> Counter& { return metrics.counter(name, "test"); };
  SessionCounters counters{counter("a"), counter("b"), counter("c"), counter("d"), counter("e"),
                           counter("f"), counter("g"), counter("h"), counter("i"), counter("j")};
  SendCounters send{counter("bytes"), counter("failures"), counter("datagrams"), counter("messages")};
  auto socket = UdpSocket::bind({"127.0.0.1", 0});
  if (!socket) return {0, false};
  EventLoop loop;
  auto feed = RtpFeed::create(source.stream, "demo/main");
  std::vector<int> sinks;
  std::vector<MediaSenderSetup> setups;
  std::array<uint8_t, 30> key{};  // AES-CM master key + salt: any bytes do
  for (int v = 0; v < viewers; ++v) {
    sockaddr_in address{};
    sinks.push_back(udp_sink(address));
    PeerAddress peer;
    std::memcpy(&peer.storage, &address, sizeof address);
    peer.length = sizeof address;
    auto sealer = SrtpRtpSealer::create(SrtpProfile::aes128_cm_sha1_80, key);
    auto reports = SrtcpCipher::create(SrtpProfile::aes128_cm_sha1_80, key);
    if (!sealer || !reports) return {0, false};
    setups.push_back({feed, uint8_t{102}, uint8_t{111}, std::move(*sealer),
                      std::move(*reports), peer});
  }
  std::vector<std::shared_ptr<MediaSender>> senders;
  {
    SenderLoop sender_loop(loop, *socket, true, send);
    for (auto& setup : setups) {
      senders.push_back(std::make_shared<MediaSender>(std::move(setup), sender_loop, counters, [] {}));
      sender_loop.adopt(senders.back());
    }
    loop.start();

    // Each access unit is at least one datagram for every viewer.
    Result result = count_in_lockstep(sinks, packets, [&](uint64_t i) { source.publisher->push(avcc_packet_at(i)); });
    for (auto& s : senders) sender_loop.retire(std::move(s));
    sender_loop.close();
    loop.stop();
    for (int fd : sinks) close(fd);
    if (!result.ok) std::fprintf(stderr, "webrtc: a viewer got nothing for 5 s\n");
    return result;
  }
}

int run(int viewers, int packets) {
  bool ok = true;
  struct Protocol {
    const char* name;
    Result (*count)(int, int);
  };
  for (const Protocol& p :
       {Protocol{"rtmp", count_rtmp}, Protocol{"flv", count_flv}, Protocol{"webrtc", count_webrtc}}) {
    Result one = p.count(1, packets);
    Result many = p.count(viewers, packets);
    double per_viewer = (many.per_packet - one.per_packet) / (viewers - 1);
    bool holds = one.ok && many.ok && per_viewer <= 0.01;
    ok = ok && holds;
    std::printf("%-6s allocations per packet: %.2f with 1 viewer, %.2f with %d; per packet per extra viewer: %.4f %s\n",
                p.name, one.per_packet, many.per_packet, viewers, per_viewer, holds ? "ok" : "ALLOCATES PER VIEWER");
  }
  return ok ? 0 : 1;
}

}  // namespace
}  // namespace anchorcast

int main(int argc, char** argv) {
  int viewers = 64;
  int packets = 3000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--viewers") == 0) viewers = std::atoi(argv[i + 1]);
    else if (std::strcmp(argv[i], "--packets") == 0) packets = std::atoi(argv[i + 1]);
  }
  if (viewers < 2 || packets < 1) {
    std::fprintf(stderr, "usage: egress_allocations [--viewers N>=2] [--packets P>=1]\n");
    return 2;
  }
  anchorcast::log::set_min_level(anchorcast::log::Level::warn);  // not 64 "plays" lines per run
  return anchorcast::run(viewers, packets);
}
