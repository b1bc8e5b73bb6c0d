// The once-a-second `stats` push (overlay/audience/stats_push.cpp) to a stream's merchants.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "anchorcast/core/metrics.hpp"
#include "anchorcast/hub/hub.hpp"
#include "anchorcast/overlay/audience.hpp"
#include "anchorcast/overlay/control_plane.hpp"

namespace anchorcast {
namespace {

struct RecordingLink : MerchantLink {
  void deliver(std::string message) override { messages.push_back(std::move(message)); }
  std::vector<std::string> messages;
};

class StatsPushTest : public ::testing::Test {
 protected:
  StatsPushTest()
      : dir_(std::filesystem::temp_directory_path() / ("anchorcast-stats-push-" + std::to_string(::getpid()))),
        config_(make_config(dir_.string())),
        control_(hub_, metrics_, config_) {
    for (const auto& s : config_.streams) EXPECT_TRUE(hub_.add(s.id, s.publish_key).ok());
    EXPECT_TRUE(control_.open().ok());
  }
  ~StatsPushTest() override {
    control_.stop();
    std::filesystem::remove_all(dir_);
  }
  static Config make_config(const std::string& dir) {
    std::filesystem::remove_all(dir);
    Config c;
    c.data_dir = dir;
    c.streams.push_back(StreamConfig{"demo", "demo-key", OverlayMode::metadata, {"tok-demo"}});
    c.streams.push_back(StreamConfig{"other", "other-key", OverlayMode::metadata, {"tok-other"}});
    return c;
  }

  std::filesystem::path dir_;
  Config config_;
  Hub hub_;
  Metrics metrics_;
  ControlPlane control_;
  ViewerEvents events_;
  int viewers_ = 0;
  StatsPush push_{hub_, [this](const StreamSnapshot&) { return viewers_; }, events_, control_};
};

TEST_F(StatsPushTest, GoesToMerchantsOncePerChange) {
  auto link = std::make_shared<RecordingLink>();
  control_.connect("demo", link);
  push_.tick();
  ASSERT_EQ(link->messages.size(), 1u) << "a merchant who joined gets the counts";
  EXPECT_EQ(nlohmann::json::parse(link->messages[0])["viewers"], 0);
  push_.tick();
  EXPECT_EQ(link->messages.size(), 1u) << "nothing changed: nothing sent";
  EXPECT_FALSE(events_.record("demo", "127.0.0.1", R"({"type":"click","id":"c1"})", 0));
  EXPECT_FALSE(events_.record("other", "127.0.0.1", R"({"type":"click","id":"c9"})", 0));
  push_.tick();
  ASSERT_EQ(link->messages.size(), 2u);
  auto stats = nlohmann::json::parse(link->messages[1]);
  EXPECT_EQ(stats["type"], "stats");
  EXPECT_EQ(stats["clicks"]["c1"], 1);
  EXPECT_FALSE(stats["clicks"].contains("c9")) << "another stream's counts stay there";
  viewers_ = 7;
  push_.tick();
  ASSERT_EQ(link->messages.size(), 3u) << "a new viewer count is news";
  EXPECT_EQ(nlohmann::json::parse(link->messages[2])["viewers"], 7);
  control_.disconnect("demo", link.get());
}

}  // namespace
}  // namespace anchorcast
