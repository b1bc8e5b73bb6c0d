#include "anchorcast/core/config.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "anchorcast/core/secret.hpp"
#include "anchorcast/media/time.hpp"

namespace anchorcast {
namespace {

std::string error_of(std::string_view json) {
  auto r = parse_config(json);
  return r.ok() ? "" : r.error().message;
}

TEST(Config, ParsesTheContractExampleWithComments) {
  auto r = parse_config(R"({
    // comments are allowed
    "http":   { "listen": "0.0.0.0:8080" },
    "rtmp":   { "listen": "0.0.0.0:1935" },
    "srt":    { "listen": "0.0.0.0:9000", "latency_ms": 120 },
    "webrtc": { "listen": "0.0.0.0:8000", "public_ip": "127.0.0.1" },
    "data_dir": "./data",
    "admin_token": "change-me",
    "streams": [
      { "id": "demo", "publish_key": "demo-key", "overlay": "burn-in",
        "merchant_tokens": ["demo-merchant"] },
      { "id": "b_2-x", "publish_key": "k2", "overlay": "metadata" }
    ]
  })");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->http.port, 8080);
  EXPECT_EQ(r->rtmp.host, "0.0.0.0");
  EXPECT_EQ(r->srt_latency_ms, 120);
  EXPECT_EQ(r->webrtc_public_ip, "127.0.0.1");
  EXPECT_TRUE(r->webrtc_udp_gso);  // on unless turned off
  ASSERT_EQ(r->streams.size(), 2u);
  EXPECT_EQ(r->streams[0].merchant_tokens, std::vector<std::string>{"demo-merchant"});
  EXPECT_EQ(r->streams[1].overlay, OverlayMode::metadata);
}

TEST(Config, ShippedDefaultIsValid) {
  std::ifstream in(std::string(ANCHORCAST_TEST_DATA) + "/../../config/anchorcast.json");
  ASSERT_TRUE(in.good());
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto r = parse_config(text);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->streams.at(0).id, "demo");
}

TEST(Config, ErrorsNameTheOffendingKey) {
  EXPECT_EQ(error_of(R"({"streams":[{"id":"a","publish_key":"k"},{"id":"b"}]})"), "streams[1].publish_key: missing");
  EXPECT_EQ(error_of(R"({"streams":[{"publish_key":"k"}]})"), "streams[0].id: missing");
  EXPECT_EQ(error_of(R"({"streams":[{"id":"a b","publish_key":"k"}]})"),
            "streams[0].id: must match [A-Za-z0-9_-]{1,64}");
  EXPECT_EQ(error_of(R"({"streams":[{"id":"a","publish_key":"k","overlay":"x"}]})"),
            "streams[0].overlay: must be \"burn-in\" or \"metadata\", got \"x\"");
  EXPECT_EQ(error_of(R"({"http":{"listen":"0.0.0.0:99999"}})"), "http.listen: port out of range: 99999");
  EXPECT_EQ(error_of(R"({"rtmp":{"listen":"nohost"}})"), "rtmp.listen: must be \"host:port\", got \"nohost\"");
  EXPECT_EQ(error_of(R"({"srt":{"latency_ms":"x"}})"), "srt.latency_ms: must be an integer");
  EXPECT_EQ(error_of(R"({"webrtc":{"udp_gso":"no"}})"), "webrtc.udp_gso: must be true or false");
  EXPECT_EQ(error_of(R"({"streams":[{"id":"a","publish_key":"k"},{"id":"a","publish_key":"j"}]})"),
            "streams[1].id: duplicate id \"a\"");
  EXPECT_EQ(error_of(R"({"streams":[{"id":"a","publish_key":"k"},{"id":"b","publish_key":"k"}]})"),
            "streams[1].publish_key: same key as another stream");
  EXPECT_EQ(error_of(R"({"http":{"listen":"0.0.0.0:1935"}})"), "rtmp.listen: port 1935 is also http.listen");
  EXPECT_EQ(error_of(R"({"streams":{}})"), "streams: must be an array");
  EXPECT_NE(error_of("{").find("not valid JSON"), std::string::npos);
  EXPECT_EQ(error_of("[]"), "config: the top level must be an object");
}

TEST(Config, UdpGsoCanBeTurnedOff) {
  auto r = parse_config(R"({"webrtc":{"listen":"0.0.0.0:8000","udp_gso":false}})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(r->webrtc_udp_gso);
}

TEST(Config, DataPlaneThreads) {
  auto absent = parse_config("{}");
  ASSERT_TRUE(absent.ok());
  EXPECT_EQ(absent->data_plane_threads, 0);  // one per core
  auto two = parse_config(R"({"data_plane":{"threads":2}})");
  ASSERT_TRUE(two.ok()) << two.error().message;
  EXPECT_EQ(two->data_plane_threads, 2);
  EXPECT_EQ(parse_config(R"({"data_plane":{"threads":0}})").error().message,
            "data_plane.threads: must be between 1 and 256");
  EXPECT_EQ(parse_config(R"({"data_plane":{"threads":"4"}})").error().message,
            "data_plane.threads: must be an integer");
  EXPECT_EQ(parse_config(R"({"data_plane":4})").error().message, "data_plane: must be an object");
}

TEST(Config, DataPlaneWriteBatch) {
  EXPECT_EQ(parse_config("{}")->data_plane_write_batch_ms, 0);  // write as it comes
  auto batched = parse_config(R"({"data_plane":{"write_batch_ms":40}})");
  ASSERT_TRUE(batched.ok()) << batched.error().message;
  EXPECT_EQ(batched->data_plane_write_batch_ms, 40);
  EXPECT_EQ(parse_config(R"({"data_plane":{"write_batch_ms":501}})").error().message,
            "data_plane.write_batch_ms: must be between 0 and 500");
  EXPECT_EQ(parse_config(R"({"data_plane":{"write_batch_ms":-1}})").error().message,
            "data_plane.write_batch_ms: must be between 0 and 500");
}

TEST(Config, StreamIdRule) {
  EXPECT_TRUE(is_valid_stream_id("A-z_09"));
  EXPECT_TRUE(is_valid_stream_id(std::string(64, 'a')));
  EXPECT_FALSE(is_valid_stream_id(std::string(65, 'a')));
  EXPECT_FALSE(is_valid_stream_id(""));
  EXPECT_FALSE(is_valid_stream_id("../x"));
  EXPECT_FALSE(is_valid_stream_id("流"));
}

TEST(Secret, ConstantTimeEqualsAndRedact) {
  EXPECT_TRUE(constant_time_equals("demo-key", "demo-key"));
  EXPECT_FALSE(constant_time_equals("demo-key", "demo-kez"));
  EXPECT_FALSE(constant_time_equals("demo-key", "demo-key2"));
  EXPECT_FALSE(constant_time_equals("", "x"));
  EXPECT_TRUE(constant_time_equals("", ""));
  EXPECT_EQ(redact("demo-key-123").find("key"), std::string::npos);
  EXPECT_NE(redact("demo-key-123").find("12 chars"), std::string::npos);
}

TEST(Time, RescaleRoundsToNearestBetweenTimeBases) {
  EXPECT_EQ(rescale(1000, kMillis, k90kHz), 90000);
  EXPECT_EQ(rescale(3003, k90kHz, kMillis), 33);   // 33.37 ms
  EXPECT_EQ(rescale(3045, k90kHz, kMillis), 34);   // 33.83 ms
  EXPECT_EQ(rescale(-3045, k90kHz, kMillis), -34);
  EXPECT_EQ(rescale(int64_t{1} << 40, k90kHz, kMicros), ((int64_t{1} << 40) * 100 + 4) / 9);
  EXPECT_EQ(rescale(1024, TimeBase{1, 44100}, kMillis), 23);
}

}  // namespace
}  // namespace anchorcast
