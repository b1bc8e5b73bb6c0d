#include "relay/http/router.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "relay/http/http_message.hpp"

namespace anchorcast {
namespace {

HttpRequest get(std::string target) {
  HttpRequest r;
  r.method = "GET";
  auto t = parse_target(target);
  EXPECT_TRUE(t.has_value()) << target;
  if (t) {
    r.path = t->first;
    r.query = t->second;
  }
  r.remote_address = "127.0.0.1:5000";
  return r;
}

class RouterTest : public ::testing::Test {
 protected:
  // Posted tasks queue up like on the HTTP thread: the hub notifies under its locks, so
  // running them inline would re-enter the queue.
  RouterTest()
      : hls_(hub_, HlsConfig{}, [this](std::function<void()> task) { posted_.push_back(std::move(task)); }),
        router_(hub_, metrics_, hls_) {
    EXPECT_TRUE(hub_.add("demo", "demo-key").ok());
    for (const auto& s : hub_.streams()) hls_.attach(hub_, s->id());
  }
  HttpResponse response(std::string target) {
    auto result = router_.route(get(std::move(target)));
    EXPECT_TRUE(std::holds_alternative<HttpResponse>(result));
    return std::get<HttpResponse>(result);
  }
  std::vector<std::function<void()>> posted_;
  Hub hub_;
  Metrics metrics_;
  HlsEndpoint hls_;
  Router router_;
};

TEST(HttpTarget, SplitsPathAndDecodesQuery) {
  auto t = parse_target("/flv/demo.flv?token=a%2Fb&x=1+2&flag");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->first, "/flv/demo.flv");
  ASSERT_EQ(t->second.size(), 3u);
  EXPECT_EQ(t->second[0], (std::pair<std::string, std::string>{"token", "a/b"}));
  EXPECT_EQ(t->second[1].second, "1 2");
  EXPECT_EQ(t->second[2].first, "flag");
}

TEST(HttpTarget, RejectsMalformedTargets) {
  EXPECT_FALSE(parse_target("http://host/x"));
  EXPECT_FALSE(parse_target(""));
  EXPECT_FALSE(parse_target("/a%2"));
  EXPECT_FALSE(parse_target("/a%zz"));
  EXPECT_FALSE(parse_target("/a%00b"));
  EXPECT_FALSE(parse_target("/a?k=%"));
}

TEST_F(RouterTest, HealthzAndMetrics) {
  EXPECT_EQ(response("/healthz").status, 200);
  auto m = response("/metrics");
  EXPECT_EQ(m.status, 200);
  EXPECT_NE(m.content_type.find("text/plain"), std::string::npos);
}

TEST_F(RouterTest, StreamsListShowsEveryStreamWithViewerCounts) {
  auto r = response("/api/v1/streams");
  ASSERT_EQ(r.status, 200);
  auto j = nlohmann::json::parse(*r.body);
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["id"], "demo");
  EXPECT_EQ(j[0]["live"], false);
  EXPECT_EQ(j[0]["viewers"]["webrtc"], 0);
  EXPECT_EQ(j[0]["viewers"]["hls"], 0);
  EXPECT_EQ(j[0]["overlays"], 0);
}

TEST_F(RouterTest, UnknownOrOfflineStreamsAre404) {
  EXPECT_EQ(response("/hls/nope/index.m3u8").status, 404);
  EXPECT_EQ(response("/hls/demo/index.m3u8").status, 404);  // known, not live
  EXPECT_EQ(response("/flv/nope.flv").status, 404);
  EXPECT_EQ(response("/flv/demo.flv").status, 404);  // known, not live
  EXPECT_EQ(response("/hls/../etc/passwd").status, 404);
  EXPECT_EQ(response("/nothing").status, 404);
}

TEST_F(RouterTest, LiveStreamGivesFlvPlayback) {
  auto pub = std::move(hub_.find("demo")->begin_publish("rtmp").value());
  auto result = router_.route(get("/flv/demo.flv"));
  ASSERT_TRUE(std::holds_alternative<FlvPlayback>(result));
  EXPECT_EQ(std::get<FlvPlayback>(result).stream->id(), "demo");
}

TEST_F(RouterTest, RenditionPicksTheCompositedOrTheSourceStream) {
  ASSERT_TRUE(hub_.add("shop", "shop-key", /*composited=*/true).ok());
  hls_.attach(hub_, "shop");
  auto pub = std::move(hub_.find("shop")->begin_publish("rtmp").value());
  auto main = router_.route(get("/flv/shop.flv"));
  auto source = router_.route(get("/flv/shop.flv?rendition=source"));
  ASSERT_TRUE(std::holds_alternative<FlvPlayback>(main));
  ASSERT_TRUE(std::holds_alternative<FlvPlayback>(source));
  EXPECT_EQ(std::get<FlvPlayback>(main).stream, hub_.composited("shop"));
  EXPECT_EQ(std::get<FlvPlayback>(source).stream, hub_.find("shop"));
  EXPECT_EQ(response("/flv/shop.flv?rendition=hd").status, 400);
  EXPECT_EQ(response("/hls/shop/index.m3u8?rendition=hd").status, 400);
}

TEST_F(RouterTest, OnlyGetAndHead) {
  HttpRequest r = get("/api/v1/streams");
  r.method = "DELETE";
  auto result = router_.route(r);
  EXPECT_EQ(std::get<HttpResponse>(result).status, 405);
}

}  // namespace
}  // namespace anchorcast
