// The HTTP face of fMP4 HLS: init sections and `.m4s` segments are served as video/mp4,
// TS segments as video/mp2t, a name in the wrong format is a 404.
#include "relay/http/hls_endpoint.hpp"

#include <gtest/gtest.h>

#include "hevc_fixture.hpp"
#include "media_fixtures.hpp"
#include "relay/http/http_message.hpp"

namespace anchorcast {
namespace {

class HlsEndpointTest : public ::testing::Test {
 protected:
  // Posted drains queue up like on the HTTP thread and are run by hand.
  HlsEndpointTest()
      : hls_(hub_, HlsConfig{.target_duration_ms = 300, .window_segments = 6},
             [this](std::function<void()> task) { posted_.push_back(std::move(task)); }) {
    EXPECT_TRUE(hub_.add("demo", "demo-key").ok());
    hls_.attach(hub_, "demo");
  }
  void publish(const TrackSet& tracks, const std::vector<PacketPtr>& packets) {
    auto publisher = hub_.find("demo")->begin_publish("srt");
    ASSERT_TRUE(publisher.ok());
    (*publisher)->set_tracks(tracks);
    for (const auto& p : packets) (*publisher)->push(Packet(*p));
    run_posted();
  }
  void run_posted() {
    auto tasks = std::move(posted_);
    posted_.clear();
    for (auto& t : tasks) t();
  }
  HttpResponse get(const std::string& target) {
    HttpRequest r;
    r.method = "GET";
    auto t = parse_target(target);
    EXPECT_TRUE(t.has_value());
    r.path = t->first;
    r.query = t->second;
    r.remote_address = "127.0.0.1:5000";
    return hls_.route(r);
  }
  std::vector<std::function<void()>> posted_;
  Hub hub_;
  HlsEndpoint hls_;
};

TEST_F(HlsEndpointTest, Fmp4FilesAreVideoMp4) {
  const auto fixture = fixtures::load_hevc_fixture();
  publish(fixture.tracks, fixture.packets);
  const auto playlist = get("/hls/demo/index.m3u8");
  ASSERT_EQ(playlist.status, 200);
  EXPECT_EQ(playlist.content_type, "application/vnd.apple.mpegurl");
  EXPECT_NE(playlist.body->find("#EXT-X-MAP:URI=\"init-0.mp4\""), std::string::npos) << *playlist.body;
  for (const auto* file : {"init-0.mp4", "seg-0.m4s"}) {
    const auto r = get(std::string("/hls/demo/") + file);
    EXPECT_EQ(r.status, 200) << file;
    EXPECT_EQ(r.content_type, "video/mp4") << file;
    ASSERT_TRUE(r.body);
    EXPECT_EQ(r.body->substr(4, 4), std::string(file).ends_with(".mp4") ? "ftyp" : "styp");
  }
  EXPECT_EQ(get("/hls/demo/seg-0.ts").status, 404);
  EXPECT_EQ(get("/hls/demo/init-9.mp4").status, 404);
}

TEST_F(HlsEndpointTest, TsSegmentsStayVideoMp2t) {
  const auto flv = fixtures::load_small_flv();
  publish(flv.tracks, fixtures::repeat_packets(flv.packets, 2, 800));
  const auto r = get("/hls/demo/seg-0.ts");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "video/mp2t");
  EXPECT_EQ(get("/hls/demo/seg-0.m4s").status, 404);
}

}  // namespace
}  // namespace anchorcast
