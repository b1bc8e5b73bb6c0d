// Cards and sales as blend-ready sprites. A card is rendered (Pango + Cairo) and converted
// to YUVA only when what it shows changes — a command, a countdown second, a new video
// size — never per frame. One per compositor thread (a CardRenderer is not thread-safe).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "overlay/compositor/layer_animator.hpp"
#include "overlay/compositor/yuv_blend.hpp"
#include "overlay/render/card_renderer.hpp"

namespace anchorcast::compositor {

// The bytes of an uploaded asset (PNG/JPEG/WebP), or null when it is gone. Called on the
// compositor's thread: it answers from memory.
using AssetBytes = std::function<std::shared_ptr<const std::string>(const std::string& asset_id)>;

class CardSprites {
 public:
  explicit CardSprites(AssetBytes asset_bytes) : asset_bytes_(std::move(asset_bytes)) {}

  // The sprite showing `layer` in a video of `video_height` lines with `color`.
  const YuvaSprite& sprite(const Layer& layer, int video_height, YuvColor color);
  // Forget cards no longer drawn.
  void keep_only(const std::vector<Layer>& drawn);
  uint64_t renders() const { return renders_; }

 private:
  const render::RgbaImage* image(const std::string& asset_id);

  AssetBytes asset_bytes_;
  int renderer_height_ = 0;
  std::optional<render::CardRenderer> renderer_;
  struct Entry {
    std::string key;
    YuvaSprite sprite;
  };
  std::map<std::string, Entry> by_id_;
  std::map<std::string, std::optional<render::RgbaImage>> images_;  // asset id → decoded (nullopt: failed)
  uint64_t renders_ = 0;
};

}  // namespace anchorcast::compositor
