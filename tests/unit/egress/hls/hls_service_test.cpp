// HlsService: hub streams in, playlists and segments (or the reason there are none) out.
#include "anchorcast/egress/hls_service.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <thread>
#include <vector>

#include "media_fixtures.hpp"
#include "wait_until.hpp"

namespace anchorcast {
namespace {

class HlsServiceTest : public ::testing::Test {
 protected:
  HlsServiceTest() : service_(HlsConfig{}, [this](std::function<void()> task) { posted_.push_back(std::move(task)); }) {}

  // Runs what the hub's notify posted, as the HTTP thread would.
  void run_posted() {
    while (!posted_.empty()) {
      auto tasks = std::move(posted_);
      posted_.clear();
      for (auto& t : tasks) t();
    }
  }

  // Two seconds of 25 fps video, a keyframe every second: one complete segment.
  void publish(Stream& stream) {
    auto publisher = stream.begin_publish("rtmp");
    ASSERT_TRUE(publisher.ok());
    publisher_ = std::move(*publisher);
    publisher_->set_tracks(fixtures::load_small_flv().tracks);
    for (int64_t t = 0; t <= 2000; t += 40) {
      Packet p = *fixtures::tiny_video(t, t % 1000 == 0);
      publisher_->push(std::move(p));
    }
    run_posted();
  }

  static std::string text(const HlsPlaylist& p) { return std::get<std::string>(p); }

  Hub hub_;
  std::vector<std::function<void()>> posted_;
  HlsService service_;
  std::unique_ptr<StreamPublisher> publisher_;
};

TEST_F(HlsServiceTest, UnknownStreamIsAMissNotAnError) {
  EXPECT_EQ(std::get<HlsMiss>(service_.playlist("nope", Rendition::main, "c")), HlsMiss::unknown_stream);
  EXPECT_EQ(std::get<HlsMiss>(service_.segment("nope", Rendition::main, "seg-0.ts")), HlsMiss::unknown_stream);
}

TEST_F(HlsServiceTest, AttachedButNeverPublishedIsNotLive) {
  ASSERT_TRUE(hub_.add("demo", "key").ok());
  service_.attach(hub_, "demo");
  EXPECT_EQ(std::get<HlsMiss>(service_.playlist("demo", Rendition::main, "c")), HlsMiss::not_live);
  EXPECT_EQ(service_.viewers("demo"), 0);
}

TEST_F(HlsServiceTest, ServesThePlaylistAndItsSegmentsAndCountsTheClient) {
  ASSERT_TRUE(hub_.add("demo", "key").ok());
  service_.attach(hub_, "demo");
  publish(*hub_.find("demo"));

  std::string playlist = text(service_.playlist("demo", Rendition::main, "10.0.0.1|ffplay"));
  EXPECT_NE(playlist.find("#EXTM3U"), std::string::npos);
  EXPECT_NE(playlist.find("seg-0.ts\n"), std::string::npos);
  EXPECT_EQ(playlist.find("rendition=source"), std::string::npos);  // no separate source
  auto segment = std::get<std::shared_ptr<const std::string>>(service_.segment("demo", Rendition::main, "seg-0.ts"));
  ASSERT_TRUE(segment);
  EXPECT_EQ(segment->size() % 188, 0u);
  EXPECT_EQ(std::get<HlsMiss>(service_.segment("demo", Rendition::main, "seg-99.ts")), HlsMiss::unknown_segment);

  service_.playlist("demo", Rendition::main, "10.0.0.1|ffplay");
  service_.playlist("demo", Rendition::source, "10.0.0.2|Safari");
  EXPECT_EQ(service_.viewers("demo"), 2);
}

TEST_F(HlsServiceTest, AStreamWithoutACompleteSegmentIsNotLiveYet) {
  ASSERT_TRUE(hub_.add("demo", "key").ok());
  service_.attach(hub_, "demo");
  auto publisher = hub_.find("demo")->begin_publish("rtmp");
  ASSERT_TRUE(publisher.ok());
  (*publisher)->set_tracks(fixtures::load_small_flv().tracks);
  (*publisher)->push(Packet(*fixtures::tiny_video(0, true)));
  run_posted();
  // Published, but the first segment is still open: nothing a player could fetch.
  EXPECT_EQ(std::get<HlsMiss>(service_.playlist("demo", Rendition::main, "c")), HlsMiss::not_live);
  EXPECT_EQ(std::get<HlsMiss>(service_.segment("demo", Rendition::main, "seg-0.ts")), HlsMiss::not_live);
}

TEST_F(HlsServiceTest, AComposedStreamsSourceCarriesItsRenditionInSegmentUris) {
  ASSERT_TRUE(hub_.add("demo", "key", /*composited=*/true).ok());
  service_.attach(hub_, "demo");
  publish(*hub_.find("demo"));

  std::string source = text(service_.playlist("demo", Rendition::source, "c"));
  EXPECT_NE(source.find("seg-0.ts?rendition=source\n"), std::string::npos);
  // The main rendition has had no compositor output: not live on its own.
  EXPECT_EQ(std::get<HlsMiss>(service_.playlist("demo", Rendition::main, "c")), HlsMiss::not_live);
}

TEST_F(HlsServiceTest, DetachForgetsTheStream) {
  ASSERT_TRUE(hub_.add("demo", "key").ok());
  service_.attach(hub_, "demo");
  publish(*hub_.find("demo"));
  service_.detach("demo");
  EXPECT_EQ(std::get<HlsMiss>(service_.playlist("demo", Rendition::main, "c")), HlsMiss::unknown_stream);
}

}  // namespace
}  // namespace anchorcast

namespace anchorcast {
namespace {

// The loops look up playlists and segments while the HTTP thread attaches and detaches
// feeds: every answer is bytes or a miss, and a detached feed lives until the lookup
// holding it is done. (Run under ASan in CI, where a use after free would show.)
TEST_F(HlsServiceTest, LookupsFromOtherThreadsWhileFeedsComeAndGo) {
  ASSERT_TRUE(hub_.add("demo", "key").ok());
  service_.attach(hub_, "demo");
  publish(*hub_.find("demo"));
  std::atomic<bool> done{false};
  std::atomic<int> served{0};
  std::vector<std::thread> players;
  for (int i = 0; i < 2; ++i)
    players.emplace_back([&] {
      while (!done) {
        auto playlist = service_.playlist("demo", Rendition::main, "c");
        auto segment = service_.segment("demo", Rendition::source, "seg-0.ts");
        if (std::holds_alternative<std::string>(playlist)) served.fetch_add(1);
        if (auto* bytes = std::get_if<std::shared_ptr<const std::string>>(&segment)) EXPECT_FALSE((*bytes)->empty());
      }
    });
  for (int i = 0; i < 300; ++i) {
    service_.detach("demo");
    service_.attach(hub_, "demo");  // from the GOP cache: no complete segment yet
  }
  // Two more keyframes complete a segment of the last feed: the players see it.
  for (int64_t t = 2040; t <= 4000; t += 40) {
    Packet p = *fixtures::tiny_video(t, t % 1000 == 0);
    publisher_->push(std::move(p));
  }
  run_posted();
  EXPECT_TRUE(test::wait_until([&] { return served.load() > 0; }, std::chrono::seconds(5)));
  done = true;
  for (auto& t : players) t.join();
}

}  // namespace
}  // namespace anchorcast
