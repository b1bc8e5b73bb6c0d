// The one response serializer: what every HTTP answer looks like on the wire.
#include "relay/http/response_bytes.hpp"

#include <gtest/gtest.h>

namespace anchorcast {
namespace {

TEST(ResponseBytes, SendsTheSharedBodyWithItsLength) {
  HttpResponse r = HttpResponse::text(200, "hello");
  r.headers.emplace_back("Cache-Control", "no-cache");
  auto bytes = response_bytes(r, true, false);
  EXPECT_EQ(bytes.head, "HTTP/1.1 200 OK\r\nServer: anchorcast/" ANCHORCAST_VERSION
                        "\r\nContent-Type: text/plain; charset=utf-8\r\nCache-Control: no-cache\r\n"
                        "Content-Length: 5\r\n\r\n");
  EXPECT_EQ(bytes.body, r.body);  // the same bytes, not a copy
}

TEST(ResponseBytes, HeadGetsTheLengthWithoutTheBody) {
  auto bytes = response_bytes(HttpResponse::text(200, "hello"), true, true);
  EXPECT_NE(bytes.head.find("Content-Length: 5\r\n"), std::string::npos);
  EXPECT_EQ(bytes.body, nullptr);
}

TEST(ResponseBytes, NoContentAndNotModifiedHaveNoLength) {
  for (int status : {204, 304}) {
    HttpResponse r;
    r.status = status;
    auto bytes = response_bytes(r, true, false);
    EXPECT_EQ(bytes.head.find("Content-Length"), std::string::npos) << status;
    EXPECT_EQ(bytes.body, nullptr);
  }
}

TEST(ResponseBytes, SaysCloseAndKeepsFieldValuesOnOneLine) {
  HttpResponse r = HttpResponse::error(404, "not_found", "gone");
  r.headers.emplace_back("Location", "/a\r\nSet-Cookie: x=1");
  auto bytes = response_bytes(r, false, false);
  EXPECT_EQ(bytes.head.substr(0, 24), "HTTP/1.1 404 Not Found\r\n");
  EXPECT_NE(bytes.head.find("Location: /a  Set-Cookie: x=1\r\n"), std::string::npos);
  EXPECT_NE(bytes.head.find("Connection: close\r\n\r\n"), std::string::npos);
}

}  // namespace
}  // namespace anchorcast
