// The config's "control" section and the admin API's stream body (relay/core/config.cpp).
#include <gtest/gtest.h>

#include "anchorcast/core/config.hpp"

namespace anchorcast {
namespace {

TEST(ControlConfig, DefaultsAndValues) {
  auto c = parse_config("{}");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->control.rate_limit_per_s, 50);
  EXPECT_TRUE(c->control.allowed_origins.empty());
  EXPECT_TRUE(c->control.fsync);
  c = parse_config(R"({"control":{"rate_limit_per_s":200,"allowed_origins":["https://shop.example"],"fsync":false}})");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->control.rate_limit_per_s, 200);
  EXPECT_EQ(c->control.allowed_origins, std::vector<std::string>{"https://shop.example"});
  EXPECT_FALSE(c->control.fsync);
}

TEST(ControlConfig, ErrorsNameTheKey) {
  EXPECT_EQ(parse_config(R"({"control":5})").error().message, "control: must be an object");
  EXPECT_EQ(parse_config(R"({"control":{"rate_limit_per_s":0}})").error().message,
            "control.rate_limit_per_s: must be between 1 and 1000000");
  EXPECT_EQ(parse_config(R"({"control":{"rate_limit_per_s":"fast"}})").error().message,
            "control.rate_limit_per_s: must be an integer");
  EXPECT_EQ(parse_config(R"({"control":{"allowed_origins":"x"}})").error().message,
            "control.allowed_origins: must be an array of strings");
  EXPECT_EQ(parse_config(R"({"control":{"allowed_origins":["shop.example"]}})").error().message,
            "control.allowed_origins[0]: must be an origin such as \"https://shop.example\"");
  EXPECT_EQ(parse_config(R"({"control":{"fsync":1}})").error().message, "control.fsync: must be true or false");
}

TEST(StreamConfigBody, ParsesAndRoundTrips) {
  auto s = parse_stream_config(R"({"id":"pop","publish_key":"k-1","overlay":"metadata","merchant_tokens":["t"]})");
  ASSERT_TRUE(s.ok());
  auto again = parse_stream_config(stream_config_to_json(*s));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->id, "pop");
  EXPECT_EQ(again->overlay, OverlayMode::metadata);
  EXPECT_EQ(again->merchant_tokens, std::vector<std::string>{"t"});
  EXPECT_EQ(parse_stream_config(R"({"id":"pop"})").error().message, "publish_key: missing");
  EXPECT_EQ(parse_stream_config(R"({"id":"a b","publish_key":"k"})").error().message,
            "id: must match [A-Za-z0-9_-]{1,64}");
  EXPECT_EQ(parse_stream_config("nope").error().message, "the body is not valid JSON");
  EXPECT_EQ(parse_stream_config("[]").error().message, "stream: must be an object");
}

}  // namespace
}  // namespace anchorcast
