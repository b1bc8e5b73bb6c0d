// The stream-scoped API with a control plane behind it (stream_api.cpp): merchant uploads
// (answered off the HTTP thread) and asset reads scoped to what the stream shows.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "anchorcast/core/metrics.hpp"
#include "anchorcast/overlay/control_plane.hpp"
#include "relay/http/router.hpp"
#include "router_rig.hpp"

namespace anchorcast {
namespace {

// A 1x1 RGBA PNG (the smallest real one: it must decode, uploads are decoded before the answer).
const std::string kPng("\x89\x50\x4e\x47\x0d\x0a\x1a\x0a\x00\x00\x00\x0d\x49\x48\x44\x52\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\x0d\x49\x44\x41\x54\x78\xda\x63\x64\xf8\xcf\x50\x0f\x00\x03\x86\x01\x80\x5a\x34\x7d\x6b\x00\x00\x00\x00\x49\x45\x4e\x44\xae\x42\x60\x82", 70);

class StreamApiControlTest : public ::testing::Test, protected test_support::RouterRig {
 protected:
  StreamApiControlTest() : RouterRig("stream-api") {}
  HttpResponse call(std::string method, std::string target, std::string token = "", std::string body = "") {
    HttpRequest r;
    r.method = std::move(method);
    auto t = parse_target(target);
    EXPECT_TRUE(t);
    r.path = t->first;
    r.query = t->second;
    if (!token.empty()) r.headers.emplace_back("authorization", "Bearer " + token);
    r.body = std::move(body);
    r.remote_address = "127.0.0.1:5000";
    return std::get<HttpResponse>(settle(router_.route(r)));
  }

};

TEST_F(StreamApiControlTest, MerchantsUploadWithTheirOwnStreamsToken) {
  auto r = call("POST", "/api/v1/streams/demo/assets", "tok-demo", kPng);
  ASSERT_EQ(r.status, 201) << *r.body;
  auto j = nlohmann::json::parse(*r.body);
  EXPECT_EQ(j["type"], "image/png");
  EXPECT_EQ(j["width"], 1);
  EXPECT_EQ(call("POST", "/api/v1/streams/demo/assets", "tok-other", kPng).status, 401);
  EXPECT_EQ(call("POST", "/api/v1/streams/demo/assets", "", kPng).status, 401);
  EXPECT_EQ(call("POST", "/api/v1/streams/demo/assets", "admin-secret", kPng).status, 401)
      << "the admin token has its own endpoint";
  EXPECT_EQ(call("POST", "/api/v1/streams/demo/assets", "tok-demo", "not an image").status, 400);
  EXPECT_EQ(call("POST", "/api/v1/streams/nope/assets", "tok-demo", kPng).status, 404);
}

TEST_F(StreamApiControlTest, ViewersReadOnlyTheImagesTheStreamShows) {
  auto up = call("POST", "/api/v1/streams/demo/assets", "tok-demo", kPng);
  ASSERT_EQ(up.status, 201);
  std::string id = nlohmann::json::parse(*up.body)["id"];
  std::string path = "/api/v1/streams/demo/assets/" + id;
  EXPECT_EQ(call("GET", path).status, 404) << "not on screen yet";
  auto merchant = call("GET", path, "tok-demo");
  EXPECT_EQ(merchant.status, 200);
  EXPECT_EQ(*merchant.body, kPng);
  hub_.find("demo")->push_cue(std::make_shared<Cue>(
      Cue{0, 1, R"({"type":"overlays","version":1,"pts_ms":0,"overlays":[{"id":"c1","image":")" + id + R"("}]})"}));
  EXPECT_EQ(call("GET", path).status, 200);
  EXPECT_EQ(call("GET", "/api/v1/streams/other/assets/" + id).status, 404) << "another stream does not show it";
  EXPECT_EQ(call("GET", "/api/v1/streams/demo/assets/img-0000000000000000").status, 404);
  EXPECT_EQ(call("GET", "/api/v1/streams/demo/assets/../../x").status, 404);
}

}  // namespace
}  // namespace anchorcast
