// The pages, their bundle, and the stream-scoped viewer API (router + stream_api.cpp).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "relay/http/http_message.hpp"
#include "relay/http/router.hpp"

namespace anchorcast {
namespace {

class WebRoutesTest : public ::testing::Test {
 protected:
  WebRoutesTest()
      : hls_(hub_, HlsConfig{}, [this](std::function<void()> task) { posted_.push_back(std::move(task)); }),
        router_(hub_, metrics_, hls_) {
    EXPECT_TRUE(hub_.add("demo", "demo-key").ok());
    EXPECT_TRUE(hub_.add("shop", "shop-key", /*composited=*/true).ok());
  }
  HttpResponse call(std::string method, std::string target, std::string body = "",
                    std::vector<std::pair<std::string, std::string>> headers = {},
                    std::string remote = "10.1.2.3:4000") {
    HttpRequest r;
    r.method = std::move(method);
    auto t = parse_target(target);
    EXPECT_TRUE(t) << target;
    if (t) {
      r.path = t->first;
      r.query = t->second;
    }
    r.body = std::move(body);
    r.headers = std::move(headers);
    r.remote_address = std::move(remote);
    auto result = router_.route(r);
    EXPECT_TRUE(std::holds_alternative<HttpResponse>(result)) << target;
    return std::get<HttpResponse>(result);
  }
  static std::string header(const HttpResponse& r, std::string_view name) {
    for (const auto& [k, v] : r.headers)
      if (k == name) return v;
    return "";
  }
  std::vector<std::function<void()>> posted_;
  Hub hub_;
  Metrics metrics_;
  HlsEndpoint hls_;
  Router router_;
};

TEST_F(WebRoutesTest, PagesOfKnownStreamsWithAStrictContentSecurityPolicy) {
  for (const char* path : {"/watch/demo", "/console/demo", "/watch/shop"}) {
    auto r = call("GET", path);
    EXPECT_EQ(r.status, 200) << path;
    EXPECT_EQ(r.content_type, "text/html; charset=utf-8");
    EXPECT_NE(r.body->find("/web/"), std::string::npos);
    EXPECT_NE(header(r, "Content-Security-Policy").find("default-src 'self'"), std::string::npos);
  }
  EXPECT_EQ(call("GET", "/watch/nope").status, 404);
  EXPECT_EQ(call("GET", "/console/bad%20id").status, 404);
  EXPECT_EQ(call("POST", "/watch/demo").status, 405);
}

TEST_F(WebRoutesTest, BundleIsEmbeddedAndRevalidatedByEtag) {
  auto js = call("GET", "/web/watch.js");
  ASSERT_EQ(js.status, 200);
  EXPECT_EQ(js.content_type, "text/javascript; charset=utf-8");
  EXPECT_GT(js.body->size(), 10000u) << "hls.js is bundled in";
  EXPECT_EQ(call("GET", "/web/app.css").content_type, "text/css; charset=utf-8");
  std::string etag = header(js, "ETag");
  ASSERT_FALSE(etag.empty());
  EXPECT_EQ(call("GET", "/web/watch.js", "", {{"if-none-match", etag}}).status, 304);
  EXPECT_EQ(call("GET", "/web/watch.html").status, 404) << "pages only under their stream's path";
  EXPECT_EQ(call("GET", "/web/nothing.js").status, 404);
}

TEST_F(WebRoutesTest, OverlaysGiveModeLivenessAndTheLatestCue) {
  auto r = call("GET", "/api/v1/streams/demo/overlays");
  ASSERT_EQ(r.status, 200);
  auto j = nlohmann::json::parse(*r.body);
  EXPECT_EQ(j["mode"], "metadata");
  EXPECT_EQ(j["live"], false);
  EXPECT_TRUE(j["cue"].is_null());
  EXPECT_GT(j["server_ms"].get<int64_t>(), 0);
  hub_.find("demo")->push_cue(std::make_shared<Cue>(Cue{40, 3, R"({"type":"overlays","version":3,"pts_ms":40,"overlays":[]})"}));
  j = nlohmann::json::parse(*call("GET", "/api/v1/streams/demo/overlays").body);
  EXPECT_EQ(j["cue"]["version"], 3);
  EXPECT_EQ(nlohmann::json::parse(*call("GET", "/api/v1/streams/shop/overlays").body)["mode"], "burn-in");
  EXPECT_EQ(call("GET", "/api/v1/streams/nope/overlays").status, 404);
  EXPECT_EQ(call("POST", "/api/v1/streams/demo/overlays").status, 405);
}

TEST_F(WebRoutesTest, EventsAreCountedCappedAndExplained) {
  const std::string click = R"({"type":"click","id":"c1"})";
  EXPECT_EQ(call("POST", "/api/v1/streams/demo/events", click).status, 202);
  EXPECT_EQ(router_.viewer_events().counts("demo")->clicks.at("c1"), 1);
  auto big = call("POST", "/api/v1/streams/demo/events", std::string(2000, ' '), {}, "10.9.9.9:1");
  EXPECT_EQ(big.status, 413);
  EXPECT_EQ(nlohmann::json::parse(*big.body)["error"], "too_large");
  auto bad = call("POST", "/api/v1/streams/demo/events", R"({"type":"like","id":"c1"})", {}, "10.9.9.8:1");
  EXPECT_EQ(bad.status, 400);
  int limited = 0;
  for (int i = 0; i < 30; ++i)
    limited += call("POST", "/api/v1/streams/demo/events", click, {}, "10.7.7.7:1").status == 429;
  EXPECT_GE(limited, 15) << "10 per second per address";
  auto r = call("POST", "/api/v1/streams/demo/events", click, {}, "10.7.7.7:2");
  EXPECT_EQ(r.status, 429) << "the cap is per address, not per connection";
  EXPECT_EQ(header(r, "Retry-After"), "1");
  EXPECT_EQ(nlohmann::json::parse(*r.body)["error"], "rate_limited");
  EXPECT_EQ(call("GET", "/api/v1/streams/demo/events").status, 405);
  EXPECT_EQ(call("POST", "/api/v1/streams/nope/events", click).status, 404);
}

}  // namespace
}  // namespace anchorcast
