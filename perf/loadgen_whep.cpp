// WHEP load generator (issue 5): N WebRTC viewers in one process, one thread. Each viewer
// POSTs an SDP offer to /whep/{id}, does ICE (a STUN Binding request with USE-CANDIDATE,
// checked with the answer's ice-pwd), a DTLS 1.2 client handshake (OpenSSL, our
// DtlsTransport in the client role) checked against the answer's fingerprint, then
// SRTP-unprotects the packets it receives, counts them and their loss per SSRC, sends
// an RTCP receiver report every second and a consent check every 5 s.
//
// --verify-every K: only every K-th viewer unprotects (authenticates and decrypts) its
// packets; the others count them from the RTP header, which SRTP leaves in the clear.
// Thousands of viewers at 600 kbit/s are ~450k packets/s; decrypting all of them would
// make the load generator, not the server, the bottleneck on a small machine. Any
// unprotect failure in a verifying viewer is reported (unprotect_failures).
//
// Output, key=value lines:
//   tick t=… playing=… ice=… dtls=… failed=… pps=… mbps=… loss_pct=… server_cpu_pct=…
//   summary viewers=… playing=… failed=… window_s=… pps=… per_viewer_kbps=… loss_pct=…
//           first_frame_ms_p50=… first_frame_ms_p95=… server_cpu_pct=… lg_cpu_pct=…
//           unprotect_failures=…
//
// server_cpu_pct reads /proc/<pid>/stat of --server-pid (100 = one core busy).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "relay/egress/webrtc/dtls_certificate.hpp"
#include "relay/egress/webrtc/dtls_transport.hpp"
#include "relay/egress/webrtc/ice_lite_agent.hpp"
#include "relay/egress/webrtc/srtp_session.hpp"
#include "relay/protocol/rtcp/rtcp_builder.hpp"
#include "relay/protocol/rtp/rtp_header.hpp"
#include "relay/protocol/stun/stun_builder.hpp"
#include "relay/protocol/stun/stun_message.hpp"
#include "process_cpu.hpp"

using namespace anchorcast;
using namespace anchorcast::webrtc;
using anchorcast::perf::process_cpu_seconds;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  std::string http_host = "127.0.0.1";
  uint16_t http_port = 8080;
  std::string stream = "demo";
  int viewers = 100;
  double ramp_per_s = 100;
  double seconds = 30;
  double window_s = 10;  // the summary covers the last window_s seconds
  int server_pid = 0;
  int verify_every = 1;
};

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// ---------------------------------------------------------------------------------------
// Signalling: one blocking HTTP/1.1 POST per viewer (during the ramp only).

// One HTTP/1.1 request with Connection: close; the whole response, or "" when the
// connection failed.
std::string http_exchange(const Options& o, const std::string& req) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(o.http_port);
  inet_pton(AF_INET, o.http_host.c_str(), &a.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return {};
  }
  size_t sent = 0;
  while (sent < req.size()) {
    ssize_t n = ::send(fd, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  std::string resp;
  char buf[8192];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    resp.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return resp;
}

std::optional<std::string> post_offer(const Options& o, const std::string& offer, std::string& location,
                                      std::string& error) {
  std::string resp = http_exchange(o, "POST /whep/" + o.stream + " HTTP/1.1\r\nHost: " + o.http_host +
                                          "\r\nContent-Type: application/sdp\r\nConnection: close\r\nContent-Length: " +
                                          std::to_string(offer.size()) + "\r\n\r\n" + offer);
  if (resp.compare(0, 12, "HTTP/1.1 201") != 0) {
    error = resp.substr(0, resp.find("\r\n"));
    return std::nullopt;
  }
  auto body = resp.find("\r\n\r\n");
  for (const char* name : {"\r\nLocation: ", "\r\nlocation: "}) {
    auto at = resp.find(name);
    if (at != std::string::npos && at < body) {
      at += std::strlen(name);
      location = resp.substr(at, resp.find("\r\n", at) - at);
    }
  }
  return body == std::string::npos ? std::string() : resp.substr(body + 4);
}

std::string sdp_value(const std::string& sdp, const std::string& key) {
  auto at = sdp.find(key);
  if (at == std::string::npos) return {};
  at += key.size();
  auto end = sdp.find_first_of("\r\n", at);
  return sdp.substr(at, end - at);
}

std::string make_offer(const IceCredentials& ice, const std::string& fingerprint) {
  std::ostringstream s;
  s << "v=0\r\no=loadgen 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n"
    << "a=ice-ufrag:" << ice.ufrag << "\r\na=ice-pwd:" << ice.pwd << "\r\na=fingerprint:sha-256 " << fingerprint
    << "\r\na=setup:actpass\r\n"
    << "m=video 9 UDP/TLS/RTP/SAVPF 102\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=recvonly\r\na=rtcp-mux\r\n"
    << "a=rtpmap:102 H264/90000\r\na=rtcp-fb:102 nack\r\na=rtcp-fb:102 nack pli\r\n"
    << "a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\r\n"
    << "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\na=recvonly\r\na=rtcp-mux\r\n"
    << "a=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10;useinbandfec=1\r\n";
  return s.str();
}

// ---------------------------------------------------------------------------------------
// One viewer

struct SsrcStats {
  uint32_t ssrc = 0;
  bool started = false;
  uint16_t base = 0;
  uint16_t highest = 0;
  uint32_t cycles = 0;
  uint64_t received = 0;
  uint32_t extended_highest() const { return cycles + highest; }
  uint64_t expected() const { return started ? uint64_t(extended_highest()) - base + 1 : 0; }
};

struct Viewer {
  enum class State { ice, dtls, playing, failed } state = State::ice;
  int fd = -1;
  IceCredentials local;
  std::string remote_ufrag, remote_pwd;
  std::unique_ptr<DtlsTransport> dtls;
  std::optional<SrtpSession> srtp_in, srtp_out;
  Clock::time_point posted, last_stun_sent, last_rr;
  double first_frame_ms = -1;
  SsrcStats ssrc[2];
  uint64_t packets = 0, bytes = 0, video_packets = 0;
  std::vector<uint8_t> stun_out;
  uint32_t my_ssrc = 0;
  bool verifies = true;  // unprotects every packet (see --verify-every)
  std::string location;  // the WHEP session URL, DELETEd at the end
};

void send_binding(Viewer& v) {
  stun::BindingRequest req;
  for (auto& b : req.transaction_id) b = static_cast<uint8_t>(std::rand());
  std::string username = v.remote_ufrag + ":" + v.local.ufrag;
  req.username = username;
  req.integrity_key = v.remote_pwd;
  req.priority = 0x6E0001FF;
  req.use_candidate = true;
  req.ice_controlling = 0x1234567890ULL;
  if (stun::build_binding_request(req, v.stun_out)) ::send(v.fd, v.stun_out.data(), v.stun_out.size(), 0);
  v.last_stun_sent = Clock::now();
}

void count_rtp(Viewer& v, std::span<const uint8_t> plain) {
  auto p = rtp::parse_rtp(plain);
  if (!p) return;
  int i = v.ssrc[0].ssrc == p->header.ssrc || !v.ssrc[0].started ? 0 : 1;
  if (v.ssrc[i].started && v.ssrc[i].ssrc != p->header.ssrc) i = 1;
  SsrcStats& s = v.ssrc[i];
  uint16_t seq = p->header.sequence;
  if (!s.started) {
    s.started = true;
    s.ssrc = p->header.ssrc;
    s.base = s.highest = seq;
  } else if (static_cast<int16_t>(seq - s.highest) > 0) {
    if (seq < s.highest) s.cycles += 65536;
    s.highest = seq;
  }
  s.received++;
  v.packets++;
  v.video_packets += p->header.payload_type == 102;
  v.bytes += plain.size();
  if (v.first_frame_ms < 0 && p->header.payload_type == 102)
    v.first_frame_ms = std::chrono::duration<double, std::milli>(Clock::now() - v.posted).count();
}

void send_receiver_report(Viewer& v, std::vector<uint8_t>& rtcp) {
  rtcp.clear();
  std::vector<rtcp::ReportBlock> blocks;
  for (auto& s : v.ssrc) {
    if (!s.started) continue;
    rtcp::ReportBlock b;
    b.source_ssrc = s.ssrc;
    int64_t lost = int64_t(s.expected()) - int64_t(s.received);
    b.cumulative_lost = static_cast<int32_t>(std::clamp<int64_t>(lost, -8388608, 8388607));
    b.highest_sequence = s.extended_highest();
    blocks.push_back(b);
  }
  if (!rtcp::append_receiver_report(v.my_ssrc, blocks, rtcp)) return;
  auto sealed = v.srtp_out->protect_rtcp(rtcp);
  if (sealed) ::send(v.fd, sealed->data(), sealed->size(), 0);
}

struct CpuSample {
  double process_s = 0;
  double wall_s = 0;
};

double self_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

int usage() {
  std::fprintf(stderr,
               "usage: loadgen_whep [--http HOST:PORT] [--stream ID] [--viewers N] [--ramp PER_S]\n"
               "                    [--seconds S] [--window S] [--server-pid PID] [--verify-every K]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--http") {
      std::string hp = next();
      auto colon = hp.rfind(':');
      if (colon == std::string::npos) return usage();
      o.http_host = hp.substr(0, colon);
      o.http_port = static_cast<uint16_t>(std::stoi(hp.substr(colon + 1)));
    } else if (a == "--stream") {
      o.stream = next();
    } else if (a == "--viewers") {
      o.viewers = std::stoi(next());
    } else if (a == "--ramp") {
      o.ramp_per_s = std::stod(next());
    } else if (a == "--seconds") {
      o.seconds = std::stod(next());
    } else if (a == "--window") {
      o.window_s = std::stod(next());
    } else if (a == "--server-pid") {
      o.server_pid = std::stoi(next());
    } else if (a == "--verify-every") {
      o.verify_every = std::max(1, std::stoi(next()));
    } else {
      return usage();
    }
  }
  std::setvbuf(stdout, nullptr, _IOLBF, 0);

  auto cert = DtlsCertificate::generate("loadgen");
  if (!cert) return std::fprintf(stderr, "%s\n", cert.error().message.c_str()), 1;
  auto ctx = DtlsContext::create(*cert, DtlsRole::client);
  if (!ctx) return std::fprintf(stderr, "%s\n", ctx.error().message.c_str()), 1;

  int ep = epoll_create1(EPOLL_CLOEXEC);
  std::vector<std::unique_ptr<Viewer>> viewers;
  viewers.reserve(static_cast<size_t>(o.viewers));
  std::vector<uint8_t> rtcp;
  // recvmmsg: one syscall per socket wake-up, not one per datagram.
  constexpr unsigned kBatch = 32;
  constexpr size_t kDatagramBytes = 2048;
  std::vector<uint8_t> rx_buffers(kBatch * kDatagramBytes);
  std::vector<iovec> rx_iov(kBatch);
  std::vector<mmsghdr> rx_headers(kBatch);
  for (unsigned k = 0; k < kBatch; ++k) {
    rx_iov[k] = {rx_buffers.data() + k * kDatagramBytes, kDatagramBytes};
    rx_headers[k] = {};
    rx_headers[k].msg_hdr.msg_iov = &rx_iov[k];
    rx_headers[k].msg_hdr.msg_iovlen = 1;
  }
  std::vector<epoll_event> events(256);
  uint64_t unprotect_failures = 0;
  int failed = 0;

  const auto start = Clock::now();
  auto next_tick = start + std::chrono::seconds(1);
  uint64_t tick_packets = 0, tick_bytes = 0;
  double tick_server_cpu = o.server_pid ? process_cpu_seconds(o.server_pid) : 0;
  auto tick_wall = start;
  std::optional<CpuSample> window_start_server;
  double window_start_self = 0;
  uint64_t window_packets = 0, window_bytes = 0;
  Clock::time_point window_start_time;
  const double window_opens_s = o.seconds - o.window_s;

  while (seconds_since(start) < o.seconds) {
    // Ramp: start the viewers due by now.
    while (static_cast<int>(viewers.size()) < o.viewers &&
           viewers.size() < static_cast<size_t>(seconds_since(start) * o.ramp_per_s) + 1) {
      auto v = std::make_unique<Viewer>();
      Viewer* vp = v.get();
      viewers.push_back(std::move(v));
      vp->local = IceCredentials::generate().value();
      vp->my_ssrc = static_cast<uint32_t>(viewers.size() * 7919);
      vp->verifies = (viewers.size() - 1) % static_cast<size_t>(o.verify_every) == 0;
      vp->posted = Clock::now();
      std::string error;
      auto answer = post_offer(o, make_offer(vp->local, cert->sha256_fingerprint()), vp->location, error);
      if (!answer) {
        if (failed++ < 5) std::fprintf(stderr, "viewer %zu: POST failed: %s\n", viewers.size(), error.c_str());
        vp->state = Viewer::State::failed;
        continue;
      }
      vp->remote_ufrag = sdp_value(*answer, "a=ice-ufrag:");
      vp->remote_pwd = sdp_value(*answer, "a=ice-pwd:");
      std::string fp = sdp_value(*answer, "a=fingerprint:sha-256 ");
      std::istringstream cand(sdp_value(*answer, "a=candidate:"));
      std::string foundation, component, proto, priority, ip, port;
      cand >> foundation >> component >> proto >> priority >> ip >> port;
      vp->fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      int rcvbuf = 1 << 20;
      setsockopt(vp->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
      sockaddr_in to{};
      to.sin_family = AF_INET;
      to.sin_port = htons(static_cast<uint16_t>(std::atoi(port.c_str())));
      inet_pton(AF_INET, ip.c_str(), &to.sin_addr);
      ::connect(vp->fd, reinterpret_cast<sockaddr*>(&to), sizeof to);
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.ptr = vp;
      epoll_ctl(ep, EPOLL_CTL_ADD, vp->fd, &ev);
      int fd = vp->fd;
      vp->dtls = DtlsTransport::create(*ctx, {"sha-256", fp}, [fd](std::span<const uint8_t> d) {
                   ::send(fd, d.data(), d.size(), 0);
                 }).value();
      send_binding(*vp);
    }

    int n = epoll_wait(ep, events.data(), static_cast<int>(events.size()), 5);
    for (int i = 0; i < n; ++i) {
      Viewer& v = *static_cast<Viewer*>(events[i].data.ptr);
      for (;;) {
        int got_n = recvmmsg(v.fd, rx_headers.data(), kBatch, MSG_DONTWAIT, nullptr);
        if (got_n <= 0) break;
        for (int k = 0; k < got_n; ++k) {
          size_t got = rx_headers[k].msg_len;
          if (got == 0) continue;
          std::span<uint8_t> d(rx_buffers.data() + k * kDatagramBytes, got);
          uint8_t first = d[0];
          if (first <= 3) {
            auto m = stun::parse_stun(d);
            if (m && m->message_class == stun::MessageClass::success && v.state == Viewer::State::ice &&
                stun::verify_message_integrity(d, *m, v.remote_pwd)) {
              v.state = Viewer::State::dtls;
              v.dtls->start();
            }
          } else if (first >= 20 && first <= 63) {
            (void)v.dtls->receive(d);
            if (v.state == Viewer::State::dtls && v.dtls->state() == DtlsTransport::State::connected) {
              const SrtpKeys& keys = *v.dtls->srtp_keys();
              v.srtp_in.emplace(
                  SrtpSession::create(SrtpSession::Direction::inbound, keys.profile, keys.remote.span()).value());
              v.srtp_out.emplace(
                  SrtpSession::create(SrtpSession::Direction::outbound, keys.profile, keys.local.span()).value());
              v.state = Viewer::State::playing;
              v.last_rr = Clock::now();
            } else if (v.dtls->state() == DtlsTransport::State::failed && v.state != Viewer::State::failed) {
              v.state = Viewer::State::failed;
              ++failed;
            }
          } else if (first >= 128 && first <= 191 && v.srtp_in) {
            bool is_rtcp = d.size() > 1 && d[1] >= 192 && d[1] <= 223;
            if (is_rtcp) continue;  // sender reports: not needed for counting
            if (v.verifies) {
              auto plain = v.srtp_in->unprotect_rtp(d);
              if (!plain) {
                ++unprotect_failures;
                continue;
              }
              count_rtp(v, *plain);
            } else {
              count_rtp(v, d);  // the header is in the clear; the size includes the tag
            }
            ++tick_packets;
            tick_bytes += got;
          }
        }
        if (got_n < static_cast<int>(kBatch)) break;
      }
    }

    auto now = Clock::now();
    for (auto& vp : viewers) {
      Viewer& v = *vp;
      if (v.state == Viewer::State::failed || v.fd < 0) continue;
      if (v.state == Viewer::State::ice && now - v.last_stun_sent > std::chrono::milliseconds(500)) send_binding(v);
      if (v.state == Viewer::State::dtls) {
        if (auto t = v.dtls->timeout(); t && t->count() == 0) v.dtls->on_timeout();
        // Like a browser: consent checks go on while DTLS runs, or a slow handshake
        // loses its session to the server's 30 s consent timeout.
        if (now - v.last_stun_sent > std::chrono::seconds(2)) send_binding(v);
      }
      if (v.state == Viewer::State::playing) {
        if (now - v.last_rr > std::chrono::seconds(1)) {
          send_receiver_report(v, rtcp);
          v.last_rr = now;
        }
        if (now - v.last_stun_sent > std::chrono::seconds(5)) send_binding(v);  // consent
      }
    }

    if (!window_start_server && seconds_since(start) >= window_opens_s) {
      window_start_time = now;
      window_start_server = CpuSample{o.server_pid ? process_cpu_seconds(o.server_pid) : 0, 0};
      window_start_self = self_cpu_seconds();
      window_packets = window_bytes = 0;
    }
    if (now >= next_tick) {
      double wall = std::chrono::duration<double>(now - tick_wall).count();
      double server_cpu = o.server_pid ? process_cpu_seconds(o.server_pid) : 0;
      int playing = 0, ice = 0, dtls = 0;
      uint64_t expected = 0, received = 0;
      for (auto& v : viewers) {
        playing += v->state == Viewer::State::playing;
        ice += v->state == Viewer::State::ice;
        dtls += v->state == Viewer::State::dtls;
        for (auto& s : v->ssrc) expected += s.expected(), received += s.received;
      }
      double loss = expected ? 100.0 * double(expected - std::min(expected, received)) / double(expected) : 0;
      std::printf("tick t=%.1f playing=%d ice=%d dtls=%d failed=%d pps=%.0f mbps=%.2f loss_pct=%.3f server_cpu_pct=%.1f\n",
                  seconds_since(start), playing, ice, dtls, failed, tick_packets / wall, tick_bytes * 8 / wall / 1e6,
                  loss, 100 * (server_cpu - tick_server_cpu) / wall);
      if (window_start_server) window_packets += tick_packets, window_bytes += tick_bytes;
      tick_packets = tick_bytes = 0;
      tick_server_cpu = server_cpu;
      tick_wall = now;
      next_tick = now + std::chrono::seconds(1);
    }
  }

  double window = window_start_server ? seconds_since(window_start_time) : 0;
  window_packets += tick_packets;
  window_bytes += tick_bytes;
  int playing = 0;
  uint64_t expected = 0, received = 0, all_packets = 0, video_packets = 0;
  std::vector<double> first_frames;
  for (auto& v : viewers) {
    playing += v->state == Viewer::State::playing;
    all_packets += v->packets;
    video_packets += v->video_packets;
    for (auto& s : v->ssrc) expected += s.expected(), received += s.received;
    if (v->first_frame_ms >= 0) first_frames.push_back(v->first_frame_ms);
  }
  std::sort(first_frames.begin(), first_frames.end());
  auto pct = [&](double q) { return first_frames.empty() ? -1.0 : first_frames[size_t(q * (first_frames.size() - 1))]; };
  double server_cpu = window_start_server && o.server_pid
                          ? 100 * (process_cpu_seconds(o.server_pid) - window_start_server->process_s) / window
                          : -1;
  double lg_cpu = window > 0 ? 100 * (self_cpu_seconds() - window_start_self) / window : -1;
  std::printf(
      "summary viewers=%d playing=%d failed=%d window_s=%.1f pps=%.0f per_viewer_kbps=%.0f loss_pct=%.3f "
      "first_frame_ms_p50=%.0f first_frame_ms_p95=%.0f server_cpu_pct=%.1f lg_cpu_pct=%.1f unprotect_failures=%" PRIu64
      " video_share_pct=%.1f\n",
      o.viewers, playing, failed, window, window > 0 ? window_packets / window : 0,
      window > 0 && playing ? window_bytes * 8 / window / 1000 / playing : 0,
      expected ? 100.0 * double(expected - std::min(expected, received)) / double(expected) : 0, pct(0.5), pct(0.95),
      server_cpu, lg_cpu, unprotect_failures, all_packets ? 100.0 * double(video_packets) / double(all_packets) : 0);
  // End the sessions, so the next run does not share the server with this one's ghosts.
  for (auto& v : viewers) {
    if (!v->location.empty())
      (void)http_exchange(o, "DELETE " + v->location + " HTTP/1.1\r\nHost: " + o.http_host +
                                 "\r\nConnection: close\r\n\r\n");
    if (v->fd >= 0) ::close(v->fd);
  }
  ::close(ep);
  return playing > 0 ? 0 : 1;
}
