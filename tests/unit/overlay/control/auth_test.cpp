#include <gtest/gtest.h>

#include "overlay/control/merchant_auth.hpp"
#include "overlay/control/rate_limiter.hpp"

namespace anchorcast::control {
namespace {

TEST(MerchantAuth, BearerOrQueryToken) {
  EXPECT_EQ(bearer_token("Bearer abc"), "abc");
  EXPECT_EQ(bearer_token("bearer  abc "), "abc");
  EXPECT_FALSE(bearer_token("Basic abc"));
  EXPECT_FALSE(bearer_token("Bearer "));
  EXPECT_EQ(merchant_token(std::nullopt, "q"), "q");
  EXPECT_EQ(merchant_token("Bearer h", "q"), "h");
  EXPECT_FALSE(merchant_token(std::nullopt, std::nullopt));
  EXPECT_FALSE(merchant_token(std::nullopt, ""));
}

TEST(MerchantAuth, TokenMustBeListedByTheStream) {
  std::vector<std::string> tokens = {"alpha-token", "beta-token"};
  EXPECT_TRUE(token_listed(tokens, "beta-token"));
  EXPECT_FALSE(token_listed(tokens, "beta-toke"));
  EXPECT_FALSE(token_listed(tokens, ""));
  EXPECT_FALSE(token_listed({}, "alpha-token"));
}

TEST(MerchantAuth, AllowedOrigins) {
  EXPECT_TRUE(origin_allowed({}, std::nullopt));
  EXPECT_TRUE(origin_allowed({}, "https://evil.example"));
  std::vector<std::string> allowed = {"https://shop.example"};
  EXPECT_TRUE(origin_allowed(allowed, "https://SHOP.example"));
  EXPECT_FALSE(origin_allowed(allowed, "https://evil.example"));
  EXPECT_TRUE(origin_allowed(allowed, std::nullopt));  // not a browser
}

TEST(RateLimiter, AllowsOneSecondBurstThenRefills) {
  RateLimiter limiter(50);
  int allowed = 0;
  for (int i = 0; i < 100; ++i) allowed += limiter.allow(1000);
  EXPECT_EQ(allowed, 50);
  EXPECT_FALSE(limiter.allow(1010));  // 0.5 token
  EXPECT_TRUE(limiter.allow(1020));   // 1 token after 20 ms at 50/s
  EXPECT_FALSE(limiter.allow(1020));
  allowed = 0;
  for (int i = 0; i < 100; ++i) allowed += limiter.allow(5000);
  EXPECT_EQ(allowed, 50);  // capped at one second's worth
}

}  // namespace
}  // namespace anchorcast::control
