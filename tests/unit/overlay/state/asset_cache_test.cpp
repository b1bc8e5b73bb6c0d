// The compositors' image source: filled from commits and the store, read from any thread,
// bounded by what the overlays show.
#include "overlay/state/asset_cache.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "overlay/state/overlay_store.hpp"
#include "test_images.hpp"

namespace anchorcast::overlay {
namespace {

std::shared_ptr<const control::DecodedImage> image(uint32_t side) {
  return std::make_shared<control::DecodedImage>(control::DecodedImage{{"image/png", 8, 8}, test::png_bytes(side, side)});
}

StoreWrite put_asset(const std::string& id, std::shared_ptr<const control::DecodedImage> img) {
  return StoreWrite{"", 0, {StoreOp{StoreOp::Kind::put_asset, id, {}, 0, std::move(img)}}};
}

OverlayRecord showing(const std::string& asset_id) {
  OverlayRecord r;
  r.overlay.id = "c-" + asset_id;
  r.overlay.image = asset_id;
  return r;
}

TEST(AssetCache, CommittedImagesAreSharedNotCopied) {
  AssetCache cache;
  auto img = image(8);
  cache.add_committed({put_asset("img-1", img), StoreWrite{"demo", 1, {}}});
  auto bytes = cache.find("img-1");
  ASSERT_TRUE(bytes);
  EXPECT_EQ(bytes.get(), &img->bytes);
  EXPECT_FALSE(cache.find("img-2"));
}

TEST(AssetCache, LoadsWhatOverlaysShowFromTheStoreOnce) {
  auto dir = std::filesystem::temp_directory_path() / ("anchorcast-assets-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  {
    auto store = OverlayStore::open(dir.string());
    ASSERT_TRUE(store.ok()) << store.error().message;
    ASSERT_TRUE((*store)->commit({put_asset("img-stored", image(16))}).ok());
    AssetCache cache;
    cache.load_missing({showing("img-stored"), showing("img-gone"), OverlayRecord{}}, **store);
    ASSERT_TRUE(cache.find("img-stored"));
    EXPECT_EQ(*cache.find("img-stored"), test::png_bytes(16, 16));
    EXPECT_FALSE(cache.find("img-gone")) << "not stored: the card shows a placeholder";
    auto first = cache.find("img-stored");
    cache.load_missing({showing("img-stored")}, **store);
    EXPECT_EQ(cache.find("img-stored"), first) << "a cached asset is not read again";
  }
  std::filesystem::remove_all(dir);
}

TEST(AssetCache, AboveItsLimitKeepsOnlyWhatIsShown) {
  AssetCache cache(2);
  cache.add_committed({put_asset("img-a", image(8)), put_asset("img-b", image(8))});
  EXPECT_FALSE(cache.over_limit());
  cache.add_committed({put_asset("img-c", image(8))});
  EXPECT_TRUE(cache.over_limit());
  cache.keep_only({"img-b"});
  EXPECT_FALSE(cache.find("img-a"));
  EXPECT_TRUE(cache.find("img-b"));
  EXPECT_FALSE(cache.find("img-c"));
  EXPECT_FALSE(cache.over_limit());
}

}  // namespace
}  // namespace anchorcast::overlay
