// The receive → hub latency histogram in Prometheus text form (cumulative buckets,
// +Inf, _sum, _count), and the SRT families a scrape shows with no publisher.
#include "relay/ingest/srt/srt_ingest_metrics.hpp"

#include <gtest/gtest.h>

namespace anchorcast {
namespace {

TEST(SrtIngestMetrics, LatencyHistogramIsCumulative) {
  LatencyHistogram h;
  h.observe_us(50);       // <= 0.0001
  h.observe_us(30'000);   // <= 0.05
  h.observe_us(33'000);   // <= 0.05
  h.observe_us(5'000'000);  // over every bound: only +Inf
  std::string out;
  MetricsWriter w(out);
  h.write(w, "x_seconds", "help");
  EXPECT_NE(out.find("# TYPE x_seconds histogram"), std::string::npos);
  EXPECT_NE(out.find("x_seconds_bucket{le=\"0.0001\"} 1\n"), std::string::npos) << out;
  EXPECT_NE(out.find("x_seconds_bucket{le=\"0.025\"} 1\n"), std::string::npos) << out;
  EXPECT_NE(out.find("x_seconds_bucket{le=\"0.05\"} 3\n"), std::string::npos) << out;
  EXPECT_NE(out.find("x_seconds_bucket{le=\"1\"} 3\n"), std::string::npos) << out;
  EXPECT_NE(out.find("x_seconds_bucket{le=\"+Inf\"} 4\n"), std::string::npos) << out;
  EXPECT_NE(out.find("x_seconds_count 4\n"), std::string::npos) << out;
  EXPECT_NE(out.find("x_seconds_sum 5.06305\n"), std::string::npos) << out;
}

TEST(SrtIngestMetrics, ScrapeWithoutPublishersShowsTheFamilies) {
  Metrics metrics;
  SrtIngestMetrics srt(metrics);
  srt.reject_bad_key.add();
  std::string out;
  MetricsWriter w(out);
  srt.collect(w);
  EXPECT_NE(out.find("anchorcast_srt_publishers 0\n"), std::string::npos) << out;
  EXPECT_NE(out.find("# TYPE anchorcast_srt_rtt_seconds gauge"), std::string::npos);
  EXPECT_NE(out.find("anchorcast_srt_ingest_latency_seconds_count 0\n"), std::string::npos);
  EXPECT_NE(metrics.render().find("anchorcast_publish_rejects_total{reason=\"bad_key\"} 1"), std::string::npos);
  EXPECT_EQ(srt.idle_ms("demo", 0), -1);
}

}  // namespace
}  // namespace anchorcast
