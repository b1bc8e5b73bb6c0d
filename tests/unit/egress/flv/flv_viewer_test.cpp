// FlvViewers: HTTP-FLV viewers on data-plane loops, each on a real loopback TCP socket,
// from the response head to the end of the response when the stream is removed.
#include "anchorcast/egress/flv_viewer.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "anchorcast/hub/hub.hpp"
#include "media_fixtures.hpp"
#include "wait_until.hpp"

namespace anchorcast {
namespace {

// What Beast 1.81 serialized for the response before FLV moved out of the HTTP session:
// http::response<http::empty_body>, version 11, status 200, the fields below in this
// order, keep_alive(false).
TEST(FlvViewer, ResponseHeadIsWhatTheBeastSessionWrote) {
  EXPECT_EQ(flv_response_head(),
            "HTTP/1.1 200 OK\r\n"
            "Server: anchorcast/" ANCHORCAST_VERSION
            "\r\n"
            "Content-Type: video/x-flv\r\n"
            "Cache-Control: no-cache\r\n"
            "Access-Control-Allow-Origin: *\r\n"
            "Connection: close\r\n"
            "\r\n");
}

// How long a viewer may take to be dealt to its loop or to go.
constexpr auto kWait = std::chrono::seconds(10);

// A connected loopback TCP pair: what the HTTP server hands over, and the player's end.
struct TcpPair {
  int server = -1;
  int client = -1;
};

TcpPair tcp_pair() {
  TcpPair pair;
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  EXPECT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  EXPECT_EQ(listen(listener, 4), 0);
  EXPECT_EQ(getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length), 0);
  pair.client = socket(AF_INET, SOCK_STREAM, 0);
  EXPECT_EQ(connect(pair.client, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  pair.server = accept(listener, nullptr, nullptr);
  close(listener);
  // A read that hangs fails the test instead of the run.
  timeval timeout{10, 0};
  setsockopt(pair.client, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  return pair;
}

// Reads until `out` holds at least `n` bytes; false if the read timed out or the server
// closed first.
bool read_at_least(int fd, size_t n, std::string& out) {
  char buf[65536];
  while (out.size() < n) {
    ssize_t got = recv(fd, buf, sizeof buf, 0);
    if (got <= 0) return false;
    out.append(buf, static_cast<size_t>(got));
  }
  return true;
}

// The response head and the FLV file header have arrived: the viewer is subscribed (the
// header follows the stream's tracks), so what the stream does from now on reaches it.
bool read_until_playing(int fd, std::string& out) {
  return read_at_least(fd, flv_response_head().size() + 13, out);
}

// Everything until the server closes; false if the read timed out first.
bool read_to_end(int fd, std::string& out) {
  char buf[65536];
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n == 0) return true;
    if (n < 0) return false;
    out.append(buf, static_cast<size_t>(n));
  }
}

class FlvViewersTest : public ::testing::Test {
 protected:
  FlvViewersTest() {
    EXPECT_TRUE(hub_.add("demo", "key").ok());
    auto publisher = hub_.find("demo")->begin_publish("rtmp");
    EXPECT_TRUE(publisher.ok());
    auto flv = fixtures::load_small_flv();
    (*publisher)->set_tracks(flv.tracks);
    for (const auto& p : flv.packets) (*publisher)->push(Packet(*p));
    publisher_ = std::move(*publisher);
  }

  Counter& egress_bytes() {
    return metrics_.counter("anchorcast_egress_bytes_total", "Media bytes sent to viewers", {{"protocol", "flv"}});
  }

  // The response a player got: the head, then an FLV file.
  static void expect_flv_response(const std::string& received) {
    std::string_view head = flv_response_head();
    ASSERT_GT(received.size(), head.size() + 13);
    EXPECT_EQ(received.substr(0, head.size()), head);
    EXPECT_EQ(received.substr(head.size(), 3), "FLV");
  }

  Hub hub_;
  Metrics metrics_;
  std::unique_ptr<StreamPublisher> publisher_;
};

TEST_F(FlvViewersTest, WritesTheHeadThenFlvAndEndsTheResponseWhenTheStreamIsRemoved) {
  EventLoop loop;
  FlvViewers viewers({&loop}, metrics_);
  loop.start();
  auto pair = tcp_pair();
  viewers.start(pair.server, "127.0.0.1:1", hub_.find("demo"));
  ASSERT_TRUE(test::wait_until([&] { return viewers.viewers_per_loop() == std::vector<size_t>{1}; }, kWait));
  std::string received;
  ASSERT_TRUE(read_until_playing(pair.client, received));

  // The GOP cache replays at once; removing the stream ends the response.
  hub_.remove("demo");
  ASSERT_TRUE(read_to_end(pair.client, received));
  close(pair.client);
  expect_flv_response(received);
  EXPECT_TRUE(test::wait_until([&] { return viewers.viewers_per_loop() == std::vector<size_t>{0}; }, kWait));
  // Media bytes, not the head.
  EXPECT_EQ(egress_bytes().value(), received.size() - flv_response_head().size());
  loop.stop();
}

TEST_F(FlvViewersTest, ViewersAreDealtOverTheLoopsAndEachGetsTheWholeResponse) {
  EventLoop first, second;
  FlvViewers viewers({&first, &second}, metrics_);
  first.start();
  second.start();
  std::vector<TcpPair> pairs;
  for (int i = 0; i < 4; ++i) {
    pairs.push_back(tcp_pair());
    viewers.start(pairs.back().server, "127.0.0.1:" + std::to_string(i), hub_.find("demo"));
  }
  ASSERT_TRUE(test::wait_until([&] { return viewers.viewers_per_loop() == std::vector<size_t>{2, 2}; }, kWait));
  std::vector<std::string> received(pairs.size());
  for (size_t i = 0; i < pairs.size(); ++i) ASSERT_TRUE(read_until_playing(pairs[i].client, received[i]));

  hub_.remove("demo");
  for (size_t i = 0; i < pairs.size(); ++i) {
    ASSERT_TRUE(read_to_end(pairs[i].client, received[i]));
    close(pairs[i].client);
    expect_flv_response(received[i]);
    EXPECT_EQ(received[i], received[0]);  // the same stream, byte for byte, on either loop
  }
  first.stop();
  second.stop();
}

TEST_F(FlvViewersTest, StoppingTheLoopClosesItsViewersAndASocketHandedOverLaterIsClosed) {
  EventLoop loop;
  FlvViewers viewers({&loop}, metrics_);
  loop.start();
  auto playing = tcp_pair();
  viewers.start(playing.server, "127.0.0.1:1", hub_.find("demo"));
  ASSERT_TRUE(test::wait_until([&] { return viewers.viewers_per_loop() == std::vector<size_t>{1}; }, kWait));
  loop.stop();
  std::string received;
  EXPECT_TRUE(read_to_end(playing.client, received));  // closed, not left hanging
  EXPECT_EQ(viewers.viewers_per_loop(), std::vector<size_t>{0});

  auto late = tcp_pair();
  viewers.start(late.server, "127.0.0.1:2", hub_.find("demo"));
  std::string nothing;
  EXPECT_TRUE(read_to_end(late.client, nothing));
  EXPECT_EQ(nothing, "");
  close(playing.client);
  close(late.client);
}

}  // namespace
}  // namespace anchorcast
