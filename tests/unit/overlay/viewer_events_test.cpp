#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "anchorcast/overlay/audience.hpp"
#include "overlay/audience/stats_push.hpp"

namespace anchorcast {
namespace {

constexpr const char* kClick = R"({"type":"click","id":"c1"})";

TEST(ViewerEvents, CountsClicksAndImpressionsPerStream) {
  ViewerEvents events;
  EXPECT_FALSE(events.record("demo", "10.0.0.1", kClick, 0));
  EXPECT_FALSE(events.record("demo", "10.0.0.2", kClick, 0));
  EXPECT_FALSE(events.record("demo", "10.0.0.1", R"({"type":"impression","id":"s1"})", 0));
  EXPECT_FALSE(events.record("shop", "10.0.0.1", kClick, 0));
  const auto* demo = events.counts("demo");
  ASSERT_NE(demo, nullptr);
  EXPECT_EQ(demo->clicks.at("c1"), 2);
  EXPECT_EQ(demo->impressions.at("s1"), 1);
  EXPECT_EQ(demo->changes, 3u);
  EXPECT_EQ(events.counts("shop")->clicks.at("c1"), 1);
  EXPECT_EQ(events.counts("idle"), nullptr);
}

TEST(ViewerEvents, CapsRatePerAddressAndRefillsOverTime) {
  ViewerEvents events;
  for (int i = 0; i < ViewerEvents::kPerAddressPerSecond; ++i) EXPECT_FALSE(events.record("demo", "10.0.0.1", kClick, 1000));
  auto refused = events.record("demo", "10.0.0.1", kClick, 1000);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->reason, ViewerEvents::Refusal::rate_limited);
  EXPECT_FALSE(events.record("demo", "10.0.0.2", kClick, 1000)) << "another address has its own budget";
  EXPECT_FALSE(events.record("demo", "10.0.0.1", kClick, 1100)) << "a tenth of a second refills one event";
  EXPECT_EQ(events.counts("demo")->clicks.at("c1"), ViewerEvents::kPerAddressPerSecond + 2);
}

TEST(ViewerEvents, RefusesBodiesOverOneKibibyteBeforeParsing) {
  ViewerEvents events;
  std::string big = R"({"type":"click","id":"c1","pad":")" + std::string(1100, 'x') + "\"}";
  auto refused = events.record("demo", "10.0.0.1", big, 0);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->reason, ViewerEvents::Refusal::too_large);
  EXPECT_EQ(events.counts("demo"), nullptr);
}

TEST(ViewerEvents, RefusesMalformedEventsWithAMessage) {
  ViewerEvents events;
  for (const char* body : {"", "not json", "[]", R"({"type":"like","id":"c1"})", R"({"type":"click"})",
                           R"({"type":"click","id":""})", R"({"type":"click","id":"<script>"})",
                           R"({"type":"click","id":7})"}) {
    std::string address = std::to_string(std::string(body).size());
    auto refused = events.record("demo", address, body, 0);
    ASSERT_TRUE(refused) << body;
    EXPECT_EQ(refused->reason, ViewerEvents::Refusal::invalid) << body;
    EXPECT_FALSE(refused->message.empty());
  }
  EXPECT_EQ(events.counts("demo"), nullptr);
}

TEST(ViewerEvents, CapsDistinctIdsPerStream) {
  ViewerEvents events;
  int64_t now = 0;
  for (size_t i = 0; i < ViewerEvents::kMaxIdsPerStream; ++i) {
    now += 1000;  // stay under the rate cap
    std::string body = R"({"type":"click","id":"c)" + std::to_string(i) + "\"}";
    ASSERT_FALSE(events.record("demo", "10.0.0.1", body, now)) << i;
  }
  auto refused = events.record("demo", "10.0.0.1", R"({"type":"click","id":"one-more"})", now + 1000);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->reason, ViewerEvents::Refusal::too_many_ids);
  EXPECT_FALSE(events.record("demo", "10.0.0.1", R"({"type":"click","id":"c0"})", now + 2000)) << "known ids still count";
}

TEST(ViewerEvents, AddressesAreCappedWithoutLosingBusyOnes) {
  ViewerEvents events;
  // Far more distinct addresses than remembered: memory stays bounded and nothing breaks.
  for (size_t i = 0; i < ViewerEvents::kMaxAddresses + 100; ++i) {
    std::string address = std::to_string(i);
    ASSERT_FALSE(events.record("demo", address, kClick, static_cast<int64_t>(i / 1000)));
  }
  EXPECT_EQ(events.counts("demo")->clicks.at("c1"), static_cast<int64_t>(ViewerEvents::kMaxAddresses + 100));
}

TEST(ViewerEvents, AddressWithoutPort) {
  EXPECT_EQ(address_without_port("203.0.113.9:5123"), "203.0.113.9");
  EXPECT_EQ(address_without_port("[::1]:80"), "::1");
  EXPECT_EQ(address_without_port("::1"), "::1");
  EXPECT_EQ(address_without_port("host"), "host");
}

TEST(StatsJson, CarriesCountsAndViewers) {
  ViewerEvents events;
  ASSERT_FALSE(events.record("demo", "10.0.0.1", kClick, 0));
  ASSERT_FALSE(events.record("demo", "10.0.0.1", R"({"type":"impression","id":"c1"})", 0));
  auto j = nlohmann::json::parse(stats_json(events.counts("demo"), 340));
  EXPECT_EQ(j["type"], "stats");
  EXPECT_EQ(j["clicks"]["c1"], 1);
  EXPECT_EQ(j["impressions"]["c1"], 1);
  EXPECT_EQ(j["viewers"], 340);
  auto empty = nlohmann::json::parse(stats_json(nullptr, 0));
  EXPECT_TRUE(empty["clicks"].is_object() && empty["clicks"].empty());
}

}  // namespace
}  // namespace anchorcast
