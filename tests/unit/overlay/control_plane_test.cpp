// The store (SQLite in a temp dir) and the ControlPlane's group commit.
#include "anchorcast/overlay/control_plane.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <future>
#include <nlohmann/json.hpp>
#include <thread>

#include "anchorcast/core/metrics.hpp"
#include "anchorcast/hub/hub.hpp"
#include "overlay/control/command.hpp"
#include "overlay/state/overlay_store.hpp"
#include "test_images.hpp"

namespace anchorcast {
namespace {

using nlohmann::json;

class TempDir {
 public:
  TempDir() {
    path_ = std::filesystem::temp_directory_path() /
            ("anchorcast-control-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    std::filesystem::remove_all(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string str() const { return path_.string(); }

 private:
  static inline int counter_ = 0;
  std::filesystem::path path_;
};

control::Command cmd(const std::string& text) {
  auto out = control::parse_command(text);
  EXPECT_TRUE(out.ok()) << text;
  return out.command();
}

struct Collector : MerchantLink {
  void deliver(std::string m) override {
    std::lock_guard lock(mutex);
    messages.push_back(std::move(m));
  }
  std::vector<std::string> copy() {
    std::lock_guard lock(mutex);
    return messages;
  }
  std::mutex mutex;
  std::vector<std::string> messages;
};

std::string applied(uint64_t version, int64_t pts_ms) {
  return R"({"type":"applied","version":)" + std::to_string(version) + R"(,"pts_ms":)" + std::to_string(pts_ms) + "}";
}

Config test_config(const std::string& dir) {
  Config c;
  c.data_dir = dir + "/data";
  c.admin_token = "admin-secret";
  c.streams.push_back(StreamConfig{"demo", "demo-key", OverlayMode::metadata, {"tok-demo"}});
  c.streams.push_back(StreamConfig{"other", "other-key", OverlayMode::burn_in, {"tok-other"}});
  return c;
}

std::string submit_sync(ControlPlane& cp, const std::string& stream, const std::string& text) {
  std::promise<std::string> reply;
  auto f = reply.get_future();
  cp.submit(stream, cmd(text), [&](std::string r) { reply.set_value(std::move(r)); });
  return f.get();
}

TEST(OverlayStore, CommitAndLoad) {
  TempDir dir;
  {
    auto store = overlay::OverlayStore::open(dir.str() + "/nested/data");
    ASSERT_TRUE(store.ok()) << store.error().message;
    overlay::StoreWrite w{"demo", 3, {}};
    w.ops.push_back({overlay::StoreOp::Kind::put_overlay, "c1", R"({"id":"c1"})", 1, nullptr});
    w.ops.push_back({overlay::StoreOp::Kind::put_overlay, "c2", R"({"id":"c2"})", 2, nullptr});
    w.ops.push_back({overlay::StoreOp::Kind::delete_overlay, "c1", {}, 0, nullptr});
    w.ops.push_back({overlay::StoreOp::Kind::put_scheduled, "sch-3", R"({"type":"overlay.clear"})", 99, nullptr});
    auto image = std::make_shared<control::DecodedImage>(
        control::DecodedImage{{"image/png", 8, 8}, test::png_bytes(8, 8)});
    w.ops.push_back({overlay::StoreOp::Kind::put_asset, "img-1", {}, 0, image});
    ASSERT_TRUE((*store)->commit({w}).ok());
  }
  auto store = overlay::OverlayStore::open(dir.str() + "/nested/data");
  ASSERT_TRUE(store.ok());
  auto loaded = (*store)->load_overlays();
  ASSERT_TRUE(loaded.ok());
  auto& demo = (*loaded)["demo"];
  EXPECT_EQ(demo.version, 3u);
  ASSERT_EQ(demo.overlays.size(), 1u);
  EXPECT_EQ(demo.overlays[0], R"({"id":"c2"})");
  ASSERT_EQ(demo.scheduled.size(), 1u);
  auto assets = (*store)->list_assets();
  ASSERT_EQ(assets->size(), 1u);
  EXPECT_EQ((*assets)[0].width, 8);
  auto bytes = (*store)->read_asset("img-1");
  ASSERT_TRUE(bytes.ok() && bytes->has_value());
  EXPECT_EQ((*bytes)->second, test::png_bytes(8, 8));
}

TEST(ControlPlane, AcksAfterCommitAndRestoresAfterRestart) {
  TempDir dir;
  Config config = test_config(dir.str());
  std::string state_before;
  {
    Hub hub;
    Metrics metrics;
    ASSERT_TRUE(hub.add("demo", "demo-key").ok());
    ControlPlane cp(hub, metrics, config);
    ASSERT_TRUE(cp.open().ok());
    cp.start();
    auto link = std::make_shared<Collector>();
    auto state = json::parse(cp.connect("demo", link));
    EXPECT_EQ(state["type"], "state");
    EXPECT_EQ(state["live"], false);
    EXPECT_EQ(state["overlays"].size(), 0u);
    auto ack = json::parse(submit_sync(cp, "demo",
                                       R"({"type":"card.show","req":"a","card":{"id":"c1","title":"t","price":"1"}})"));
    EXPECT_EQ(ack["type"], "ack");
    EXPECT_EQ(ack["req"], "a");
    EXPECT_EQ(ack["version"], 1);
    auto e = json::parse(submit_sync(cp, "demo", R"({"type":"card.hide","req":"b","id":"zz"})"));
    EXPECT_EQ(e["code"], "not_found");
    ack = json::parse(submit_sync(cp, "demo", R"({"type":"overlay.clear","req":"c","at_ms":4000000000000})"));
    EXPECT_EQ(ack["scheduled"], "sch-2");
    cp.flush();
    {
      std::lock_guard lock(link->mutex);
      ASSERT_GE(link->messages.size(), 2u);
      auto applied = json::parse(link->messages[0]);
      EXPECT_EQ(applied["type"], "applied");
      EXPECT_EQ(applied["version"], 1);
      EXPECT_TRUE(applied.contains("pts_ms"));
    }
    EXPECT_EQ(cp.overlay_count("demo"), 1u);
    state_before = cp.connect("demo", std::make_shared<Collector>());
    cp.stop();
  }
  Hub hub;
  Metrics metrics;
  ASSERT_TRUE(hub.add("demo", "demo-key").ok());
  ControlPlane cp(hub, metrics, config);
  ASSERT_TRUE(cp.open().ok());
  EXPECT_EQ(cp.connect("demo", std::make_shared<Collector>()), state_before);
}

TEST(ControlPlane, EveryChangeIsCuedOnTheSourceAndABurnInStreamsCompositorAloneReportsApplied) {
  TempDir dir;
  Config config = test_config(dir.str());
  Hub hub;
  Metrics metrics;
  ASSERT_TRUE(hub.add("demo", "demo-key").ok());
  ASSERT_TRUE(hub.add("other", "other-key", /*composited=*/true).ok());
  ControlPlane cp(hub, metrics, config);
  ASSERT_TRUE(cp.open().ok());
  cp.start();
  auto demo = std::make_shared<Collector>();
  auto other = std::make_shared<Collector>();
  cp.connect("demo", demo);
  cp.connect("other", other);
  const std::string show = R"({"type":"card.show","req":"a","card":{"id":"c1","title":"t","price":"1"}})";
  ASSERT_EQ(json::parse(submit_sync(cp, "demo", show))["type"], "ack");
  ASSERT_EQ(json::parse(submit_sync(cp, "other", show))["type"], "ack");
  cp.flush();

  // Metadata stream: the source's cue, applied at once at its pts.
  auto demo_cue = hub.find("demo")->latest_cue();
  ASSERT_TRUE(demo_cue);
  EXPECT_EQ(demo_cue->version, 1u);
  EXPECT_EQ(demo->copy(), std::vector<std::string>{applied(1, demo_cue->pts_ms)});
  // Burn-in stream, anchor offline: a cue on each rendition, one `applied`, the compositor's
  // (at main's position, the pts of main's cue).
  ASSERT_TRUE(hub.find("other", Rendition::source)->latest_cue());
  EXPECT_EQ(hub.find("other", Rendition::source)->latest_cue()->version, 1u);
  auto main_cue = hub.composited("other")->latest_cue();
  ASSERT_TRUE(main_cue);
  EXPECT_EQ(main_cue->version, 1u);
  EXPECT_EQ(other->copy(), std::vector<std::string>{applied(1, main_cue->pts_ms)});
  cp.stop();
}

TEST(ControlPlane, GroupCommitsManyConcurrentMerchants) {
  TempDir dir;
  Config config = test_config(dir.str());
  Hub hub;
  Metrics metrics;
  ControlPlane cp(hub, metrics, config);
  ASSERT_TRUE(cp.open().ok());
  cp.start();
  constexpr int kThreads = 8, kPerThread = 200;
  std::atomic<int> acks{0};
  std::vector<std::thread> threads;
  std::vector<std::vector<int>> versions(kThreads);
  std::vector<std::mutex> mutexes(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string stream = t % 2 ? "demo" : "other";
        cp.submit(stream,
                  cmd(R"({"type":"card.show","req":")" + std::to_string(i) + R"(","card":{"id":"t)" +
                      std::to_string(t) + R"(","title":"x","price":"1"}})"),
                  [&, t](std::string r) {
                    auto j = json::parse(r);
                    if (j["type"] == "ack") acks++;
                    std::lock_guard lock(mutexes[t]);
                    versions[t].push_back(j["version"].get<int>());
                  });
      }
    });
  }
  for (auto& th : threads) th.join();
  cp.flush();
  EXPECT_EQ(acks.load(), kThreads * kPerThread);
  for (auto& v : versions) EXPECT_TRUE(std::is_sorted(v.begin(), v.end()));  // in order per merchant
  auto commits = metrics.render();
  auto pos = commits.find("\nanchorcast_control_commits_total ");
  ASSERT_NE(pos, std::string::npos);
  double n = std::stod(commits.substr(pos + 34));
  EXPECT_LT(n, kThreads * kPerThread);  // batched: fewer transactions than commands
  cp.stop();
  ControlPlane again(hub, metrics, config);
  ASSERT_TRUE(again.open().ok());
  auto state = json::parse(again.connect("demo", std::make_shared<Collector>()));
  EXPECT_EQ(state["version"], kThreads / 2 * kPerThread);
}

TEST(ControlPlane, AuthAndAdminStreams) {
  TempDir dir;
  Config config = test_config(dir.str());
  Hub hub;
  Metrics metrics;
  for (auto& s : config.streams) ASSERT_TRUE(hub.add(s.id, s.publish_key).ok());
  {
    ControlPlane cp(hub, metrics, config);
    ASSERT_TRUE(cp.open().ok());
    cp.start();
    EXPECT_TRUE(cp.merchant_allowed("demo", "tok-demo"));
    EXPECT_FALSE(cp.merchant_allowed("demo", "tok-other"));  // another stream's token
    EXPECT_FALSE(cp.merchant_allowed("nope", "tok-demo"));
    EXPECT_TRUE(cp.admin_allowed("Bearer admin-secret"));
    EXPECT_FALSE(cp.admin_allowed("Bearer admin-secreT"));
    EXPECT_FALSE(cp.admin_allowed(std::nullopt));
    auto created = cp.create_stream(StreamConfig{"new1", "new1-key", OverlayMode::metadata, {"tok-new"}});
    ASSERT_TRUE(created.ok()) << created.error().message;
    EXPECT_TRUE(hub.find("new1"));
    EXPECT_TRUE(cp.merchant_allowed("new1", "tok-new"));
    EXPECT_FALSE(cp.create_stream(StreamConfig{"demo", "x-key", OverlayMode::metadata, {}}).ok());
    EXPECT_FALSE(cp.delete_stream("demo").ok());  // config streams are the config's
    auto asset = cp.add_asset(test::real_png_1x1());
    ASSERT_TRUE(asset.ok()) << asset.error().message;
    EXPECT_EQ(asset->mime, "image/png");
    EXPECT_FALSE(cp.add_asset("not an image").ok());
    EXPECT_FALSE(cp.add_asset(test::jpeg_bytes(64, 32)).ok());  // a header without pixels
    EXPECT_EQ(cp.assets().size(), 1u);
    EXPECT_EQ(cp.asset(asset->id)->second, test::real_png_1x1());
    cp.stop();
  }
  hub.remove("new1");
  ControlPlane cp(hub, metrics, config);
  ASSERT_TRUE(cp.open().ok());
  auto stored = cp.stored_streams();
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0].id, "new1");
  EXPECT_EQ(cp.assets().size(), 1u);
  cp.start();
  ASSERT_TRUE(hub.add("new1", "new1-key").ok());
  EXPECT_TRUE(cp.delete_stream("new1").ok());
  EXPECT_FALSE(cp.merchant_allowed("new1", "tok-new"));
}

}  // namespace
}  // namespace anchorcast
