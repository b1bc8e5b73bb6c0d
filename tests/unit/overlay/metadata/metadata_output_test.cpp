// The metadata path of a scene change: one cue on the rendition at its output position,
// `applied` for every version at that same pts, reported before set_scene returns.
#include "overlay/metadata/metadata_output.hpp"

#include <gtest/gtest.h>

#include "anchorcast/hub/hub.hpp"
#include "overlay/metadata/scene_cue.hpp"

namespace anchorcast::metadata {
namespace {

ScenePtr scene(uint64_t version, std::string overlays_json) {
  auto s = std::make_shared<Scene>();
  s->version = version;
  s->overlays_json = std::move(overlays_json);
  return s;
}

TEST(SceneCue, CarriesTheScenesOverlaysAtItsPts) {
  auto cue = build_cue(*scene(7, R"([{"id":"c1"}])"), 1234);
  EXPECT_EQ(cue->pts_ms, 1234);
  EXPECT_EQ(cue->version, 7u);
  EXPECT_EQ(cue->json, R"({"type":"overlays","version":7,"pts_ms":1234,"overlays":[{"id":"c1"}]})");
}

TEST(MetadataOutput, CuesTheRenditionAndAppliesEveryVersionAtOnceAtTheCuesPts) {
  Hub hub;
  ASSERT_TRUE(hub.add("demo", "demo-key").ok());
  auto source = hub.find("demo");
  std::vector<std::pair<uint64_t, int64_t>> applied;
  MetadataOutput output(source, [&](uint64_t v, int64_t pts) { applied.emplace_back(v, pts); });

  output.set_scene(scene(3, "[]"), {2, 3});

  auto cue = source->latest_cue();
  ASSERT_TRUE(cue);
  EXPECT_EQ(cue->pts_ms, source->output_position_ms());
  EXPECT_EQ(cue->version, 3u);
  EXPECT_EQ(cue->json, build_cue(*scene(3, "[]"), cue->pts_ms)->json);
  ASSERT_EQ(applied.size(), 2u);
  EXPECT_EQ(applied[0], std::make_pair(uint64_t{2}, cue->pts_ms));
  EXPECT_EQ(applied[1], std::make_pair(uint64_t{3}, cue->pts_ms));
}

TEST(MetadataOutput, WithoutACallbackItOnlyCues) {
  // A burn-in stream's source: cued, but `applied` is the compositor's to report.
  Hub hub;
  ASSERT_TRUE(hub.add("shop", "shop-key", /*composited=*/true).ok());
  auto source = hub.find("shop");
  MetadataOutput output(source, nullptr);
  output.set_scene(scene(1, "[]"), {1});
  ASSERT_TRUE(source->latest_cue());
  EXPECT_EQ(source->latest_cue()->version, 1u);
  EXPECT_FALSE(hub.composited("shop")->latest_cue()) << "main gets its cues from the compositor";
}

}  // namespace
}  // namespace anchorcast::metadata
