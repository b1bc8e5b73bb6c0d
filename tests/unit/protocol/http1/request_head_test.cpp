// The request heads the data plane's HTTP connections read: what players send, and the
// malformed or oversized heads a hostile peer sends instead.
#include <gtest/gtest.h>

#include <string>

#include "relay/protocol/http1/request_head.hpp"

using namespace anchorcast::http1;

namespace {

RequestHead parsed(std::string_view bytes, size_t max = 8192) {
  auto r = parse_request_head(bytes, max);
  if (!std::holds_alternative<RequestHead>(r)) {
    ADD_FAILURE() << "not parsed: " << bytes;
    return {};
  }
  return std::get<RequestHead>(r);
}

bool is_error(std::string_view bytes, HeadError error, size_t max = 8192) {
  auto r = parse_request_head(bytes, max);
  return std::holds_alternative<HeadError>(r) && std::get<HeadError>(r) == error;
}

bool needs_more(std::string_view bytes, size_t max = 8192) {
  return std::holds_alternative<NeedMore>(parse_request_head(bytes, max));
}

// What ffmpeg 5.1's HLS demuxer sends on a persistent connection.
constexpr std::string_view kFfmpegGet =
    "GET /hls/demo/seg-7.ts HTTP/1.1\r\n"
    "User-Agent: Lavf/59.27.100\r\n"
    "Accept: */*\r\n"
    "Range: bytes=0-\r\n"
    "Connection: keep-alive\r\n"
    "Host: 127.0.0.1:8080\r\n"
    "Icy-MetaData: 1\r\n"
    "\r\n";

}  // namespace

TEST(RequestHead, ParsesAPlayersGet) {
  std::string bytes = std::string(kFfmpegGet) + "GET /next";  // a pipelined request follows
  auto head = parsed(bytes);
  EXPECT_EQ(head.method, "GET");
  EXPECT_EQ(head.target, "/hls/demo/seg-7.ts");
  EXPECT_EQ(head.minor_version, 1);
  EXPECT_EQ(head.size, kFfmpegGet.size());
  ASSERT_EQ(head.fields.size(), 6u);
  EXPECT_EQ(head.field("user-agent"), "Lavf/59.27.100");
  EXPECT_EQ(head.field("HOST"), "127.0.0.1:8080");
  EXPECT_FALSE(head.field("cookie"));
  EXPECT_TRUE(head.keep_alive());
  EXPECT_FALSE(head.has_body());
}

TEST(RequestHead, EveryPrefixNeedsMore) {
  for (size_t n = 0; n < kFfmpegGet.size(); ++n)
    EXPECT_TRUE(needs_more(kFfmpegGet.substr(0, n))) << n;
}

TEST(RequestHead, PersistenceFollowsVersionAndConnection) {
  EXPECT_TRUE(parsed("GET / HTTP/1.1\r\n\r\n").keep_alive());
  EXPECT_FALSE(parsed("GET / HTTP/1.1\r\nConnection: Close\r\n\r\n").keep_alive());
  EXPECT_FALSE(parsed("GET / HTTP/1.1\r\nConnection: TE, close\r\n\r\n").keep_alive());
  EXPECT_FALSE(parsed("GET / HTTP/1.0\r\n\r\n").keep_alive());
  EXPECT_TRUE(parsed("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").keep_alive());
  EXPECT_EQ(parsed("HEAD / HTTP/1.0\r\n\r\n").minor_version, 0);
}

TEST(RequestHead, KnowsWhenABodyFollows) {
  EXPECT_FALSE(parsed("GET / HTTP/1.1\r\nContent-Length: 0\r\n\r\n").has_body());
  EXPECT_TRUE(parsed("POST / HTTP/1.1\r\nContent-Length: 12\r\n\r\n").has_body());
  EXPECT_TRUE(parsed("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n").has_body());
  EXPECT_TRUE(parsed("GET / HTTP/1.1\r\ncontent-length: 5\r\ncontent-length: 5\r\n\r\n").has_body());
}

TEST(RequestHead, SkipsAFewEmptyLinesBeforeTheRequest) {
  auto head = parsed("\r\n\r\nGET /a HTTP/1.1\r\n\r\n");
  EXPECT_EQ(head.target, "/a");
  EXPECT_EQ(head.size, 4u + 19u);
  EXPECT_TRUE(is_error("\r\n\r\n\r\n\r\n\r\nGET /a HTTP/1.1\r\n\r\n", HeadError::malformed));
}

TEST(RequestHead, RejectsWhatTwoParsersCouldReadDifferently) {
  for (std::string_view bad : {
           "GET /a HTTP/1.1\r\nHost: x\nEvil: y\r\n\r\n",      // bare LF
           "GET /a HTTP/1.1\r\nHost: x\rEvil: y\r\n\r\n",      // bare CR
           "GET /a HTTP/1.1\r\nHost : x\r\n\r\n",              // space before the colon
           "GET /a HTTP/1.1\r\nHost: x\r\n  folded\r\n\r\n",   // obs-fold
           "GET /a HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
           "GET /a HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
           "GET /a HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n",
           "GET /a HTTP/1.1\r\nX: a\x01z\r\n\r\n",                // control character
           "GET /a HTTP/1.1\r\nno colon\r\n\r\n",
           "GET  /a HTTP/1.1\r\n\r\n",                         // two spaces
           "GET /a b HTTP/1.1\r\n\r\n",
           "GET /a HTTP/2.0\r\n\r\n",
           "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",                  // an HTTP/2 preface
           "GET /a\r\n\r\n",                                   // HTTP/0.9
           "G(T /a HTTP/1.1\r\n\r\n",
           "GET /\x80 HTTP/1.1\r\n\r\n",
       })
    EXPECT_TRUE(is_error(bad, HeadError::malformed)) << bad;
}

TEST(RequestHead, StopsAtTheLimit) {
  std::string head = "GET / HTTP/1.1\r\nX: " + std::string(100, 'a') + "\r\n\r\n";
  EXPECT_TRUE(needs_more(head.substr(0, 63), 64));
  EXPECT_TRUE(is_error(head, HeadError::too_large, 64));
  EXPECT_EQ(parsed(head, head.size()).size, head.size());  // exactly at the limit
  std::string many = "GET / HTTP/1.1\r\n";
  for (size_t i = 0; i <= kMaxFields; ++i) many += "X: 1\r\n";
  EXPECT_TRUE(is_error(many + "\r\n", HeadError::too_large));
}
