// The Router's side of the control channel and the admin API (Beast-free): who gets the
// WebSocket upgrade, and the answers before it.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "anchorcast/core/metrics.hpp"
#include "anchorcast/overlay/control_plane.hpp"
#include "relay/http/router.hpp"
#include "router_rig.hpp"
#include "test_images.hpp"

namespace anchorcast {
namespace {

HttpRequest request(std::string method, std::string target, std::vector<std::pair<std::string, std::string>> headers = {},
                    std::string body = {}) {
  HttpRequest r;
  r.method = std::move(method);
  auto t = parse_target(target);
  EXPECT_TRUE(t.has_value());
  r.path = t->first;
  r.query = t->second;
  r.headers = std::move(headers);
  r.body = std::move(body);
  r.remote_address = "127.0.0.1:5000";
  return r;
}

const std::pair<std::string, std::string> kUpgrade{"upgrade", "websocket"};

class RouterControlTest : public ::testing::Test, protected test_support::RouterRig {
 protected:
  RouterControlTest()
      : RouterRig("router-control", [](Config& c) { c.control.allowed_origins = {"https://shop.example"}; }) {}
  int status(const HttpRequest& r) {
    auto result = settle(router_.route(r));
    if (std::holds_alternative<ControlUpgrade>(result)) return 101;
    EXPECT_TRUE(std::holds_alternative<HttpResponse>(result));
    return std::get<HttpResponse>(result).status;
  }
  HttpResponse response(const HttpRequest& r) { return std::get<HttpResponse>(settle(router_.route(r))); }

};

TEST_F(RouterControlTest, UpgradeOnlyWithThisStreamsToken) {
  auto ok = router_.route(request("GET", "/control/demo", {{"authorization", "Bearer tok-demo"}, kUpgrade}));
  ASSERT_TRUE(std::holds_alternative<ControlUpgrade>(ok));
  EXPECT_EQ(std::get<ControlUpgrade>(ok).stream_id, "demo");
  EXPECT_EQ(status(request("GET", "/control/demo?token=tok-demo", {kUpgrade})), 101);
  EXPECT_EQ(status(request("GET", "/control/demo", {kUpgrade})), 401);
  EXPECT_EQ(status(request("GET", "/control/demo?token=tok-other", {kUpgrade})), 401);
  EXPECT_EQ(status(request("GET", "/control/demo", {{"authorization", "Bearer tok-demoX"}, kUpgrade})), 401);
  EXPECT_EQ(status(request("GET", "/control/demo", {{"authorization", "Basic tok-demo"}, kUpgrade})), 401);
  auto r = response(request("GET", "/control/demo", {kUpgrade}));
  EXPECT_EQ(r.headers.at(0).first, "WWW-Authenticate");
  EXPECT_EQ(status(request("GET", "/control/nope?token=tok-demo", {kUpgrade})), 404);
  EXPECT_EQ(status(request("POST", "/control/demo?token=tok-demo", {kUpgrade})), 405);
  EXPECT_EQ(status(request("GET", "/control/demo?token=tok-demo")), 426);  // not a WebSocket request
  EXPECT_EQ(status(request("GET", "/control/demo?token=tok-demo", {{"origin", "https://evil.example"}, kUpgrade})), 403);
  EXPECT_EQ(status(request("GET", "/control/demo?token=tok-demo", {{"origin", "https://shop.example"}, kUpgrade})), 101);
}

TEST_F(RouterControlTest, AdminApiNeedsTheAdminToken) {
  const std::pair<std::string, std::string> admin{"authorization", "Bearer admin-secret"};
  std::string body = R"({"id":"pop","publish_key":"pop-key","overlay":"metadata","merchant_tokens":["tok-pop"]})";
  EXPECT_EQ(status(request("POST", "/api/v1/streams", {}, body)), 401);
  EXPECT_EQ(status(request("POST", "/api/v1/streams", {{"authorization", "Bearer admin-secreT"}}, body)), 401);
  EXPECT_EQ(status(request("POST", "/api/v1/streams", {admin}, "{}")), 400);
  EXPECT_EQ(status(request("POST", "/api/v1/streams", {admin}, body)), 201);
  EXPECT_EQ(status(request("POST", "/api/v1/streams", {admin}, body)), 409);
  EXPECT_EQ(status(request("GET", "/control/pop?token=tok-pop", {kUpgrade})), 101);
  EXPECT_EQ(status(request("GET", "/hls/pop/index.m3u8")), 404);  // known, not live
  EXPECT_EQ(status(request("DELETE", "/api/v1/streams/demo", {admin})), 409);
  EXPECT_EQ(status(request("DELETE", "/api/v1/streams/pop", {admin})), 204);
  EXPECT_EQ(status(request("DELETE", "/api/v1/streams/pop", {admin})), 404);
  EXPECT_EQ(status(request("GET", "/api/v1/assets")), 401);
  auto up = response(request("POST", "/api/v1/assets", {admin}, test::real_png_1x1()));
  EXPECT_EQ(up.status, 201);
  auto id = nlohmann::json::parse(*up.body)["id"].get<std::string>();
  EXPECT_EQ(status(request("POST", "/api/v1/assets", {admin}, "GIF89a")), 400);
  auto list = nlohmann::json::parse(*response(request("GET", "/api/v1/assets", {admin})).body);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["id"], id);
  auto bytes = response(request("GET", "/api/v1/assets/" + id, {admin}));
  EXPECT_EQ(bytes.content_type, "image/png");
  EXPECT_EQ(*bytes.body, test::real_png_1x1());
  EXPECT_EQ(status(request("GET", "/api/v1/assets/img-0000000000000000", {admin})), 404);
  EXPECT_EQ(status(request("GET", "/api/v1/streams")), 200);  // the listing stays public
}

}  // namespace
}  // namespace anchorcast
