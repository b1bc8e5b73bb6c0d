// The overlays the golden and property tests render: one per language and state, with
// the contract's example texts where it has them.
#pragma once

#include <string>

#include "golden_image.hpp"
#include "overlay/control/command.hpp"
#include "overlay/render/card_renderer.hpp"

namespace anchorcast::overlay::render::test {

inline control::Overlay product_card(std::string title, std::string price, std::string original_price,
                                     std::string badge = "", std::string locale = "zh") {
  control::Overlay o;
  o.kind = control::OverlayKind::card;
  o.id = "c1";
  o.title = std::move(title);
  o.price = std::move(price);
  o.original_price = std::move(original_price);
  o.badge = std::move(badge);
  o.locale = std::move(locale);
  return o;
}

inline control::Overlay flash_sale(std::string locale, int64_t stock) {
  control::Overlay o = product_card("限时秒杀 Flash sale 真丝连衣裙", "¥9.9", "¥99", "秒杀", std::move(locale));
  o.kind = control::OverlayKind::sale;
  o.id = "s1";
  o.stock = stock;
  return o;
}

// 200 code points (the contract's cap) of mixed CJK and Latin.
inline std::string longest_title() {
  std::string title;
  const std::string unit = "超长标题测试Long title ";  // 17 code points; 12 of them overshoot by 4 ASCII ones
  while (control::utf8_length(title) < control::kMaxTitleChars) {
    title += unit;
  }
  while (control::utf8_length(title) > control::kMaxTitleChars) title.pop_back();  // unit ends in ASCII
  return title;
}

inline RgbaImage fixture_image(const std::string& name) {
  auto decoded = decode_image(read_file(std::string(ANCHORCAST_TEST_GOLDEN) + "/inputs/" + name));
  return decoded ? std::move(decoded).value() : RgbaImage{};
}

}  // namespace anchorcast::overlay::render::test
