// HTTP GET load for HLS origins: N keep-alive connections, each asking for the same
// path again as soon as the previous response is read whole (one request in flight per
// connection, as a player's). Counts responses per second and, with --server-pid, the
// server's CPU (utime + stime from /proc) per request: the figure to compare with nginx
// serving the same files from disk, side by side in the same run.
//
//   loadgen_hls --target 127.0.0.1:8080 --path /hls/demo/index.m3u8 --connections 50
//               --seconds 10 [--server-pid PID]
//
// Prints one line: summary path=... connections=... requests=... rps=... errors=...
// bytes_per_response=... server_cpu_pct=... server_us_per_request=...
// Exits 1 when nothing but errors came back (a wrong path must not read as a result).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "process_cpu.hpp"

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;
  std::string path = "/";
  int connections = 50;
  double seconds = 10;
  int server_pid = 0;
};

struct Connection {
  int fd = -1;
  std::string in;               // bytes of the response being read
  size_t need = 0;              // head + body bytes of that response, once the head is in
  bool close_after = false;     // the server said Connection: close
};

// The end of the head and the body length; false while the head is incomplete. A head
// without Content-Length (chunked, or read to close) is not what an HLS origin sends
// for a file: counted as an error.
bool parse_head(std::string_view data, size_t& head_end, size_t& body, int& status, bool& close) {
  auto end = data.find("\r\n\r\n");
  if (end == std::string_view::npos) return false;
  head_end = end + 4;
  std::string head(data.substr(0, end));
  std::transform(head.begin(), head.end(), head.begin(), [](unsigned char c) { return std::tolower(c); });
  status = head.size() > 12 ? std::atoi(head.c_str() + 9) : 0;
  auto at = head.find("\r\ncontent-length:");
  body = at == std::string::npos ? static_cast<size_t>(-1) : std::strtoull(head.c_str() + at + 17, nullptr, 10);
  close = head.find("\r\nconnection: close") != std::string::npos;
  return true;
}

int run(const Options& o) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(o.port);
  if (inet_pton(AF_INET, o.host.c_str(), &address.sin_addr) != 1) {
    std::fprintf(stderr, "loadgen_hls: --target wants an IPv4 address, not %s\n", o.host.c_str());
    return 2;
  }
  const std::string request = "GET " + o.path + " HTTP/1.1\r\nHost: " + o.host + "\r\nUser-Agent: loadgen_hls\r\n\r\n";
  int ep = epoll_create1(EPOLL_CLOEXEC);
  std::vector<Connection> conns(static_cast<size_t>(o.connections));
  auto open = [&](size_t i) {
    Connection& c = conns[i];
    if (c.fd >= 0) ::close(c.fd);
    c = Connection{};
    c.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(c.fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) return false;
    fcntl(c.fd, F_SETFL, O_NONBLOCK);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = i;
    epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev);
    return send(c.fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size());
  };
  for (size_t i = 0; i < conns.size(); ++i) {
    if (!open(i)) {
      std::fprintf(stderr, "loadgen_hls: cannot connect to %s:%u\n", o.host.c_str(), o.port);
      return 2;
    }
  }
  const double server_cpu_before = o.server_pid ? anchorcast::perf::process_cpu_seconds(o.server_pid) : 0;
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration<double>(o.seconds);
  uint64_t ok = 0, errors = 0, body_bytes = 0;
  std::vector<epoll_event> events(256);
  std::vector<char> buf(1 << 16);
  while (Clock::now() < deadline) {
    int n = epoll_wait(ep, events.data(), static_cast<int>(events.size()), 100);
    for (int e = 0; e < n; ++e) {
      const size_t i = events[static_cast<size_t>(e)].data.u64;
      Connection& c = conns[i];
      for (;;) {
        ssize_t got = recv(c.fd, buf.data(), buf.size(), 0);
        if (got > 0) {
          c.in.append(buf.data(), static_cast<size_t>(got));
          continue;
        }
        if (got == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
          ++errors;  // the server closed mid-response or between them without saying so
          open(i);
        }
        break;
      }
      // Every whole response in the buffer (one in flight, but a close may follow).
      while (!c.in.empty()) {
        size_t head_end = 0, body = 0;
        int status = 0;
        bool close = false;
        if (!parse_head(c.in, head_end, body, status, close)) break;
        if (body == static_cast<size_t>(-1)) {
          ++errors;
          open(i);
          break;
        }
        if (c.in.size() < head_end + body) break;
        if (status == 200) {
          ++ok;
          body_bytes += body;
        } else {
          ++errors;
        }
        c.in.erase(0, head_end + body);
        if (close) {
          open(i);
          break;
        }
        if (send(c.fd, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) {
          ++errors;
          open(i);
          break;
        }
      }
    }
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  const double server_cpu_s = o.server_pid ? anchorcast::perf::process_cpu_seconds(o.server_pid) - server_cpu_before : 0;
  for (auto& c : conns)
    if (c.fd >= 0) ::close(c.fd);
  ::close(ep);
  std::printf("summary path=%s connections=%d requests=%llu rps=%.0f errors=%llu bytes_per_response=%.0f "
              "server_cpu_pct=%.1f server_us_per_request=%.2f\n",
              o.path.c_str(), o.connections, static_cast<unsigned long long>(ok), static_cast<double>(ok) / elapsed,
              static_cast<unsigned long long>(errors), ok ? static_cast<double>(body_bytes) / static_cast<double>(ok) : 0.0,
              o.server_pid ? 100.0 * server_cpu_s / elapsed : 0.0,
              o.server_pid && ok ? 1e6 * server_cpu_s / static_cast<double>(ok) : 0.0);
  return ok > 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string_view key = argv[i];
    const char* value = argv[i + 1];
    if (key == "--target") {
      std::string_view t = value;
      auto colon = t.rfind(':');
      if (colon == std::string_view::npos) {
        std::fprintf(stderr, "loadgen_hls: --target HOST:PORT\n");
        return 2;
      }
      o.host = std::string(t.substr(0, colon));
      o.port = static_cast<uint16_t>(std::atoi(value + colon + 1));
    } else if (key == "--path") {
      o.path = value;
    } else if (key == "--connections") {
      o.connections = std::max(1, std::atoi(value));
    } else if (key == "--seconds") {
      o.seconds = std::max(0.5, std::atof(value));
    } else if (key == "--server-pid") {
      o.server_pid = std::atoi(value);
    } else {
      std::fprintf(stderr, "loadgen_hls: unknown option %s\n", argv[i]);
      return 2;
    }
  }
  return run(o);
}
