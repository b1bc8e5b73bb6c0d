#include "overlay/compositor/card_sprites.hpp"

#include <algorithm>

#include "anchorcast/core/log.hpp"

namespace anchorcast::compositor {

namespace {

// Everything the pixels depend on; two layers with the same key render the same.
std::string content_key(const Layer& layer, int video_height, YuvColor color) {
  const auto& o = layer.record.overlay;
  std::string key;
  key.reserve(256);
  for (const std::string* s : {&o.title, &o.price, &o.original_price, &o.badge, &o.locale, &o.image}) {
    key += *s;
    key += '\x1f';
  }
  key += std::to_string(static_cast<int>(o.kind)) + '|' + std::to_string(o.stock) + '|' +
         std::to_string(static_cast<int>(layer.sale_state)) + '|' + std::to_string(layer.remaining_s) + '|' +
         std::to_string(layer.stock_at_start) + '|' + std::to_string(video_height) + '|' +
         std::to_string(static_cast<int>(color.matrix)) + std::to_string(static_cast<int>(color.range));
  return key;
}

}  // namespace

const render::RgbaImage* CardSprites::image(const std::string& asset_id) {
  if (asset_id.empty()) return nullptr;
  auto it = images_.find(asset_id);
  if (it == images_.end()) {
    std::optional<render::RgbaImage> decoded;
    if (auto bytes = asset_bytes_ ? asset_bytes_(asset_id) : nullptr) {
      auto r = render::decode_image(*bytes);
      if (r) decoded = std::move(*r);
      else log::warn("compositor: asset ", asset_id, " cannot be drawn: ", r.error().message);
    } else {
      log::warn("compositor: asset ", asset_id, " is missing; the card shows a placeholder");
    }
    if (images_.size() > 64) images_.clear();  // a bound, not a policy: assets are few per show
    it = images_.emplace(asset_id, std::move(decoded)).first;
  }
  return it->second ? &*it->second : nullptr;
}

const YuvaSprite& CardSprites::sprite(const Layer& layer, int video_height, YuvColor color) {
  std::string key = content_key(layer, video_height, color);
  Entry& entry = by_id_[layer.record.overlay.id];
  if (entry.key == key) return entry.sprite;
  if (!renderer_ || renderer_height_ != video_height) {
    renderer_.emplace(video_height);
    renderer_height_ = video_height;
  }
  render::CardView view;
  view.overlay = &layer.record.overlay;
  view.sale_state = layer.sale_state;
  view.remaining_s = layer.remaining_s;
  view.stock_at_start = layer.stock_at_start;
  view.image = image(layer.record.overlay.image);
  render::RgbaImage rgba = renderer_->render(view);
  entry.sprite = make_sprite(rgba.pixels.data(), rgba.width, rgba.height, rgba.width * 4, color.matrix, color.range);
  entry.key = std::move(key);
  ++renders_;
  return entry.sprite;
}

void CardSprites::keep_only(const std::vector<Layer>& drawn) {
  std::erase_if(by_id_, [&](const auto& e) {
    return std::none_of(drawn.begin(), drawn.end(), [&](const Layer& l) { return l.record.overlay.id == e.first; });
  });
}

}  // namespace anchorcast::compositor
