// HLS connections on the data-plane loops, driven over real loopback sockets: keep-alive
// and pipelined requests answered in order, a request for anything else handed back with
// its bytes, and every way a peer could make a connection hold on (an oversized or
// malformed head, idling, trickling bytes, never reading) ending it.
#include "relay/http/hls_connections.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <mutex>
#include <numeric>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "wait_until.hpp"

namespace anchorcast {
namespace {

using test::wait_until;
using namespace std::chrono_literals;

constexpr auto kPatience = 5s;

// A connected pair over loopback: the client's end and the server's end.
struct SocketPair {
  int client = -1;
  int server = -1;
};

SocketPair connected_pair() {
  int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  EXPECT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  EXPECT_EQ(::listen(listener, 4), 0);
  EXPECT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  SocketPair pair;
  pair.client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  EXPECT_EQ(::connect(pair.client, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  pair.server = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
  ::close(listener);
  timeval timeout{5, 0};
  ::setsockopt(pair.client, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  return pair;
}

void send_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    ASSERT_GT(n, 0);
    bytes.remove_prefix(static_cast<size_t>(n));
  }
}

struct Response {
  std::string status_line;
  std::map<std::string, std::string> fields;
  std::string body;
};

// Reads one response (a body of Content-Length bytes unless `head_request`); nullopt on
// EOF or timeout before it is complete. `pending` keeps bytes of the next one.
std::optional<Response> read_response(int fd, std::string& pending, bool head_request = false) {
  char buf[65536];
  auto fill = [&] {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return false;
    pending.append(buf, static_cast<size_t>(n));
    return true;
  };
  size_t end;
  while ((end = pending.find("\r\n\r\n")) == std::string::npos)
    if (!fill()) return std::nullopt;
  Response r;
  std::string head = pending.substr(0, end + 2);
  pending.erase(0, end + 4);
  size_t eol = head.find("\r\n");
  r.status_line = head.substr(0, eol);
  for (size_t pos = eol + 2; pos < head.size();) {
    size_t next = head.find("\r\n", pos);
    std::string line = head.substr(pos, next - pos);
    size_t colon = line.find(':');
    r.fields[line.substr(0, colon)] = line.substr(colon + 2);
    pos = next + 2;
  }
  size_t length = head_request || !r.fields.count("Content-Length") ? 0 : std::stoul(r.fields["Content-Length"]);
  while (pending.size() < length)
    if (!fill()) return std::nullopt;
  r.body = pending.substr(0, length);
  pending.erase(0, length);
  return r;
}

// True once the peer closed (EOF or reset) within the patience.
bool closed_by_server(int fd) {
  pollfd p{fd, POLLIN, 0};
  auto deadline = std::chrono::steady_clock::now() + kPatience;
  char buf[65536];
  while (std::chrono::steady_clock::now() < deadline) {
    if (::poll(&p, 1, 100) <= 0) continue;
    ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN)) return true;
  }
  return false;
}

HttpRequest get(std::string path, std::string method = "GET") {
  HttpRequest r;
  r.method = std::move(method);
  r.path = std::move(path);
  r.remote_address = "127.0.0.1:1";
  return r;
}

struct HandedBack {
  int fd;
  std::string remote;
  std::string buffered;
};

class HlsConnectionsTest : public ::testing::Test {
 protected:
  HlsConnectionsTest() {
    for (auto& loop : loops_) loop.start();
  }
  ~HlsConnectionsTest() override {
    for (auto& loop : loops_) loop.stop();
    for (auto& h : handed_back_) ::close(h.fd);
    for (int fd : clients_) ::close(fd);
  }

  HlsConnections& connections(HlsConnectionLimits limits = {}) {
    auto serve = [](const HttpRequest& request) {
      if (request.path == "/hls/big") {
        HttpResponse r = HttpResponse::text(200, "");
        r.body = std::make_shared<const std::string>(std::string(32 << 20, 'x'));
        return r;
      }
      return HttpResponse::text(200, request.method + " " + request.path + " ua=" +
                                         request.header("user-agent").value_or("-"));
    };
    auto hand_back = [this](int fd, std::string remote, std::string buffered) {
      std::lock_guard lock(mutex_);
      handed_back_.push_back({fd, std::move(remote), std::move(buffered)});
    };
    connections_.emplace(std::vector<EventLoop*>{&loops_[0], &loops_[1]}, metrics_, serve, hand_back, limits);
    return *connections_;
  }

  // A client connected to a connection whose first request (`first`) was read.
  int open(HttpRequest first, bool keep_alive = true, std::string buffered = {}) {
    auto pair = connected_pair();
    clients_.push_back(pair.client);
    connections_->start(pair.server, std::move(first), keep_alive, std::move(buffered));
    return pair.client;
  }

  size_t open_connections() const {
    auto per_loop = connections_->connections_per_loop();
    return std::accumulate(per_loop.begin(), per_loop.end(), size_t{0});
  }

  size_t handed_back() {
    std::lock_guard lock(mutex_);
    return handed_back_.size();
  }

  Metrics metrics_;
  std::vector<EventLoop> loops_ = std::vector<EventLoop>(2);
  std::optional<HlsConnections> connections_;
  std::mutex mutex_;
  std::vector<HandedBack> handed_back_;
  std::vector<int> clients_;
};

TEST_F(HlsConnectionsTest, AnswersTheFirstRequestThenPipelinedOnesInOrder) {
  connections();
  int client = open(get("/hls/demo/index.m3u8"));
  std::string pending;
  auto first = read_response(client, pending);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status_line, "HTTP/1.1 200 OK");
  EXPECT_EQ(first->body, "GET /hls/demo/index.m3u8 ua=-");
  EXPECT_FALSE(first->fields.count("Connection"));

  send_all(client,
           "GET /hls/demo/seg-1.ts?rendition=source HTTP/1.1\r\nUser-Agent: Lavf\r\n\r\n"
           "HEAD /hls/demo/seg-2.ts HTTP/1.1\r\n\r\n"
           "GET /hls/demo/seg-3.ts HTTP/1.1\r\n\r\n");
  auto second = read_response(client, pending);
  auto third = read_response(client, pending, true);
  auto fourth = read_response(client, pending);
  ASSERT_TRUE(second && third && fourth);
  EXPECT_EQ(second->body, "GET /hls/demo/seg-1.ts ua=Lavf");
  EXPECT_EQ(third->fields["Content-Length"], std::to_string(std::string("HEAD /hls/demo/seg-2.ts ua=-").size()));
  EXPECT_EQ(fourth->body, "GET /hls/demo/seg-3.ts ua=-");
  EXPECT_TRUE(pending.empty());  // HEAD sent no body
  EXPECT_EQ(open_connections(), 1u);
  EXPECT_EQ(metrics_.counter("anchorcast_http_requests_total", "HTTP requests handled").value(), 3u);
}

TEST_F(HlsConnectionsTest, HandsBackARequestForAnythingElseWithEveryUnreadByte) {
  connections();
  const std::string rest = "GET /healthz HTTP/1.1\r\n\r\nGET /hls/demo/index.m3u8 HTTP/1.1\r\n\r\n";
  // The bytes the HTTP thread read past the first request come first.
  int client = open(get("/hls/demo/index.m3u8"), true, rest.substr(0, 10));
  std::string pending;
  ASSERT_TRUE(read_response(client, pending));
  send_all(client, rest.substr(10));
  ASSERT_TRUE(wait_until([&] { return handed_back() == 1; }, kPatience));
  EXPECT_TRUE(wait_until([&] { return open_connections() == 0; }, kPatience));
  std::lock_guard lock(mutex_);
  EXPECT_EQ(handed_back_[0].buffered, rest);
  EXPECT_EQ(handed_back_[0].remote, "127.0.0.1:1");
  // The descriptor handed back is the same connection, still open.
  send_all(handed_back_[0].fd, "still here");
  char buf[16] = {};
  EXPECT_EQ(::recv(client, buf, sizeof buf, 0), 10);
  EXPECT_STREQ(buf, "still here");
}

TEST_F(HlsConnectionsTest, HandsBackARequestWithABody) {
  connections();
  int client = open(get("/hls/demo/index.m3u8"));
  std::string pending;
  ASSERT_TRUE(read_response(client, pending));
  send_all(client, "POST /hls/demo/index.m3u8 HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi");
  ASSERT_TRUE(wait_until([&] { return handed_back() == 1; }, kPatience));
}

TEST_F(HlsConnectionsTest, AnOversizedHeadGets431AndTheConnectionEnds) {
  HlsConnectionLimits limits;
  limits.max_head_bytes = 512;
  connections(limits);
  int client = open(get("/hls/demo/index.m3u8"));
  std::string pending;
  ASSERT_TRUE(read_response(client, pending));
  send_all(client, "GET /hls/demo/index.m3u8 HTTP/1.1\r\nX-Pad: " + std::string(600, 'a'));
  auto refused = read_response(client, pending);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status_line, "HTTP/1.1 431 Request Header Fields Too Large");
  EXPECT_EQ(refused->fields["Connection"], "close");
  EXPECT_TRUE(closed_by_server(client));
  EXPECT_TRUE(wait_until([&] { return open_connections() == 0; }, kPatience));
}

TEST_F(HlsConnectionsTest, AMalformedHeadGets400AndTheConnectionEnds) {
  connections();
  int client = open(get("/hls/demo/index.m3u8"));
  std::string pending;
  ASSERT_TRUE(read_response(client, pending));
  send_all(client, "GET /hls/demo/index.m3u8 HTTP/1.1\r\nHost : x\r\n\r\n");
  auto refused = read_response(client, pending);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status_line, "HTTP/1.1 400 Bad Request");
  EXPECT_TRUE(closed_by_server(client));
}

TEST_F(HlsConnectionsTest, ConnectionCloseEndsItAfterTheAnswer) {
  connections();
  int client = open(get("/hls/demo/index.m3u8"));
  std::string pending;
  ASSERT_TRUE(read_response(client, pending));
  send_all(client, "GET /hls/demo/seg-1.ts HTTP/1.1\r\nConnection: close\r\n\r\n");
  auto last = read_response(client, pending);
  ASSERT_TRUE(last);
  EXPECT_EQ(last->fields["Connection"], "close");
  EXPECT_TRUE(closed_by_server(client));
  // The HTTP thread's first request may already have asked for it.
  int once = open(get("/hls/demo/index.m3u8"), false);
  ASSERT_TRUE(read_response(once, pending));
  EXPECT_TRUE(closed_by_server(once));
}

TEST_F(HlsConnectionsTest, AnIdleConnectionEndsEvenIfBytesTrickleIn) {
  HlsConnectionLimits limits;
  limits.idle_ms = 300;
  connections(limits);
  int idle = open(get("/hls/demo/index.m3u8"));
  std::string pending;
  ASSERT_TRUE(read_response(idle, pending));
  EXPECT_TRUE(closed_by_server(idle));
  // One byte of a head every 50 ms, starting at once, never completes it: the deadline
  // is for the whole head, so it ends about 300 ms in, not when the bytes stop.
  int trickling = open(get("/hls/demo/index.m3u8"));
  ASSERT_TRUE(read_response(trickling, pending));
  const std::string head = "GET /hls/demo/index.m3u8 HTTP/1.1\r\nUser-Agent: slow\r\nAccept: */*\r\n";
  size_t sent = 0;
  for (char c : head) {
    if (::send(trickling, &c, 1, MSG_NOSIGNAL) != 1) break;
    ++sent;
    std::this_thread::sleep_for(50ms);
    if (open_connections() == 0) break;
  }
  EXPECT_LT(sent, head.size()) << "the server waited for the whole trickle";
  EXPECT_TRUE(closed_by_server(trickling));
  EXPECT_TRUE(wait_until([&] { return open_connections() == 0; }, kPatience));
}

TEST_F(HlsConnectionsTest, APeerThatStopsReadingIsClosed) {
  HlsConnectionLimits limits;
  limits.write_stall_ms = 300;
  connections(limits);
  auto pair = connected_pair();
  int small = 4096;
  ::setsockopt(pair.client, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  clients_.push_back(pair.client);
  connections_->start(pair.server, get("/hls/big"), true, {});
  ASSERT_TRUE(wait_until([&] { return open_connections() == 1; }, kPatience));
  // 32 MiB never fit in the socket buffers; with nobody reading, the write stalls.
  EXPECT_TRUE(wait_until([&] { return open_connections() == 0; }, kPatience));
}

TEST_F(HlsConnectionsTest, DealsConnectionsOverTheLoops) {
  connections();
  int a = open(get("/hls/demo/index.m3u8"));
  int b = open(get("/hls/demo/index.m3u8"));
  std::string pa, pb;
  ASSERT_TRUE(read_response(a, pa));
  ASSERT_TRUE(read_response(b, pb));
  EXPECT_EQ(connections_->connections_per_loop(), (std::vector<size_t>{1, 1}));
}

// The per-loop state outlives the service: its loops' stop tasks hold it until libuv has
// run the close callbacks of the connections they closed (ASan in CI would see a use
// after free otherwise).
TEST_F(HlsConnectionsTest, ConnectionsCloseCleanlyWhenTheServiceGoesBeforeItsLoops) {
  connections();
  int client = open(get("/hls/demo/index.m3u8"));
  std::string pending;
  ASSERT_TRUE(read_response(client, pending));
  connections_.reset();
  for (auto& loop : loops_) loop.stop();
  EXPECT_TRUE(closed_by_server(client));
}

TEST_F(HlsConnectionsTest, StoppingTheLoopsClosesConnectionsAndRefusesNewOnes) {
  connections();
  int client = open(get("/hls/demo/index.m3u8"));
  std::string pending;
  ASSERT_TRUE(read_response(client, pending));
  for (auto& loop : loops_) loop.stop();
  EXPECT_TRUE(closed_by_server(client));
  int late = open(get("/hls/demo/index.m3u8"));
  EXPECT_TRUE(closed_by_server(late));
}

}  // namespace
}  // namespace anchorcast
