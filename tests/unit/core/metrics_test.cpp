#include "anchorcast/core/metrics.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace anchorcast {
namespace {

TEST(Histogram, CountsIntoCumulativeBucketsWithSumAndInf) {
  Histogram h({0.005, 0.01, 0.025});
  for (double v : {0.001, 0.005, 0.007, 0.02, 0.5}) h.observe(v);
  EXPECT_EQ(h.cumulative(0), 2u);  // 0.001 and 0.005 (le is inclusive)
  EXPECT_EQ(h.cumulative(1), 3u);
  EXPECT_EQ(h.cumulative(2), 4u);
  EXPECT_EQ(h.cumulative(3), 5u);  // +Inf
  EXPECT_EQ(h.count(), 5u);
  EXPECT_NEAR(h.sum(), 0.533, 1e-9);
  EXPECT_EQ(h.quantile_bound(0.5), 0.01);
  EXPECT_TRUE(std::isinf(h.quantile_bound(0.99)));
}

TEST(Histogram, RendersInPrometheusTextFormat) {
  Metrics m;
  auto& h = m.histogram("x_seconds", "Test latency", {0.01, 0.1}, {{"stream", "demo"}});
  EXPECT_EQ(&h, &m.histogram("x_seconds", "Test latency", {1}, {{"stream", "demo"}}));
  h.observe(0.05);
  std::string text = m.render();
  EXPECT_NE(text.find("# TYPE x_seconds histogram"), std::string::npos) << text;
  EXPECT_NE(text.find("x_seconds_bucket{stream=\"demo\",le=\"0.01\"} 0"), std::string::npos) << text;
  EXPECT_NE(text.find("x_seconds_bucket{stream=\"demo\",le=\"0.1\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("x_seconds_bucket{stream=\"demo\",le=\"+Inf\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("x_seconds_count{stream=\"demo\"} 1"), std::string::npos) << text;
}

}  // namespace
}  // namespace anchorcast
