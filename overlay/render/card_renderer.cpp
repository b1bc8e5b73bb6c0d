// CardRenderer: the layout and drawing of product cards and flash-sale cards. Sizes are
// designed at 1080p and scaled once per renderer; every text box has a fixed size, so a
// card never changes size or moves its parts while a countdown or the stock changes.
#include "overlay/render/card_renderer.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

#include <pango/pangocairo.h>

#include "overlay/render/rgba_surface.hpp"
#include "overlay/render/sale_labels.hpp"
#include "overlay/render/text_layout.hpp"

namespace anchorcast::overlay::render {

namespace {

struct Colour {
  double r, g, b, a;
};

constexpr Colour kPanel{0.07, 0.07, 0.09, 0.84};
constexpr Colour kPanelEnded{0.33, 0.33, 0.35, 0.84};  // a greyed card reads as "over" at a glance
constexpr Colour kTitle{1, 1, 1, 0.96};
constexpr Colour kAccent{1.0, 0.30, 0.18, 1};  // price, badge, countdown: the colour viewers act on
constexpr Colour kAccentLight{1.0, 0.62, 0.20, 1};
constexpr Colour kMuted{0.70, 0.70, 0.72, 1};
constexpr Colour kGreyedText{0.80, 0.80, 0.82, 1};
constexpr Colour kGreyed{0.64, 0.64, 0.66, 1};
constexpr Colour kGreyedDark{0.47, 0.47, 0.49, 1};
constexpr Colour kSoldOutBox{0.24, 0.24, 0.27, 1};
constexpr Colour kImageBacking{0.95, 0.95, 0.96, 1};  // product cut-outs are shot for a white page
constexpr Colour kPlaceholder{0.22, 0.22, 0.25, 1};
constexpr Colour kPlaceholderIcon{0.40, 0.40, 0.44, 1};
constexpr Colour kBarTrack{1, 1, 1, 0.18};
constexpr Colour kImageVeil{0, 0, 0, 0.55};
constexpr Colour kImageGreyVeil{0.33, 0.33, 0.35, 0.60};

// The 1080p design, in pixels.
constexpr double kCardWidth = 480;
constexpr double kPadding = 16;
constexpr double kImageSide = 152;
constexpr double kCornerRadius = 20;
constexpr double kImageRadius = 12;
constexpr double kColumnGap = 16;
constexpr double kTitleSize = 24;
constexpr double kPriceSize = 40;
constexpr double kPriceGap = 4;
constexpr double kOriginalPriceSize = 22;
constexpr double kOriginalPriceGap = 10;
constexpr double kPriceMinScale = 0.6;  // smaller stops reading as the price
constexpr double kBadgeSize = 18;
constexpr double kBadgeInset = 8;
constexpr double kBadgePaddingX = 10;
constexpr double kBadgePaddingY = 2;
constexpr double kSoldOutStampSize = 30;
constexpr double kStripGap = 12;
constexpr double kStripHeight = 52;
constexpr double kCountdownSize = 30;
constexpr double kCountdownPaddingX = 14;
constexpr double kCountdownRadius = 10;
constexpr double kStockSize = 22;
constexpr double kBarHeight = 12;

int even(int v) { return (v + 1) & ~1; }

void set_colour(cairo_t* cr, Colour c) { cairo_set_source_rgba(cr, c.r, c.g, c.b, c.a); }

void rounded_rect(cairo_t* cr, double x, double y, double w, double h, double r) {
  r = std::min({r, w / 2, h / 2});
  constexpr double kQuarter = std::numbers::pi / 2;
  cairo_new_sub_path(cr);
  cairo_arc(cr, x + w - r, y + r, r, -kQuarter, 0);
  cairo_arc(cr, x + w - r, y + h - r, r, 0, kQuarter);
  cairo_arc(cr, x + r, y + h - r, r, kQuarter, 2 * kQuarter);
  cairo_arc(cr, x + r, y + r, r, 2 * kQuarter, 3 * kQuarter);
  cairo_close_path(cr);
}

void rounded_rect(cairo_t* cr, const Rect& rect, double r) { rounded_rect(cr, rect.x, rect.y, rect.width, rect.height, r); }

void show(cairo_t* cr, PangoLayout* layout, double x, double y, Colour colour) {
  set_colour(cr, colour);
  cairo_move_to(cr, x, y);
  pango_cairo_show_layout(cr, layout);
}

}  // namespace

struct CardRenderer::Impl {
  explicit Impl(int video_height) : scale(std::max(video_height, 120) / 1080.0) {
    const int padding = px(kPadding);
    card.width = even(px(kCardWidth));
    card.image = {padding, padding, px(kImageSide), px(kImageSide)};
    const int column_x = card.image.x + card.image.width + px(kColumnGap);
    const int line_height = measure(text.lay_out("国Ag", title_style(), card.width).get()).height_px;
    card.title = {column_x, padding, card.width - padding - column_x, 2 * line_height};
    card.height = even(card.image.y + card.image.height + padding);

    sale = card;
    const int strip_y = card.image.y + card.image.height + px(kStripGap);
    const int strip_height = px(kStripHeight);
    const int countdown_text_width =
        measure(text.lay_out(kWidestCountdown, countdown_style(), 4 * card.width).get()).width_px;
    sale.countdown = {padding, strip_y, countdown_text_width + 2 * px(kCountdownPaddingX), strip_height};
    const int stock_x = sale.countdown.x + sale.countdown.width + px(kColumnGap);
    sale.stock = {stock_x, strip_y, card.width - padding - stock_x, strip_height};
    sale.height = even(strip_y + strip_height + padding);
  }

  int px(double design_px) const { return std::max(1, static_cast<int>(std::lround(design_px * scale))); }

  TextStyle title_style() const { return {.size_px = px(kTitleSize), .max_lines = 2}; }
  TextStyle countdown_style() const { return {.size_px = px(kCountdownSize), .bold = true, .tabular_figures = true}; }

  RgbaImage render(const CardView& view);
  void draw_panel(cairo_t* cr, const CardGeometry& g, bool greyed);
  void draw_image(cairo_t* cr, const CardGeometry& g, const CardView& view);
  void draw_badge(cairo_t* cr, const CardGeometry& g, const control::Overlay& overlay, bool greyed);
  void draw_text(cairo_t* cr, const CardGeometry& g, const control::Overlay& overlay, bool greyed);
  void draw_countdown(cairo_t* cr, const CardGeometry& g, const CardView& view);
  void draw_stock(cairo_t* cr, const CardGeometry& g, const CardView& view);

  double scale;
  TextLayouter text;
  CardGeometry card;
  CardGeometry sale;
};

RgbaImage CardRenderer::Impl::render(const CardView& view) {
  if (!view.overlay) return {};
  const control::Overlay& overlay = *view.overlay;
  const bool is_sale = overlay.kind == control::OverlayKind::sale;
  const CardGeometry& g = is_sale ? sale : card;
  const bool greyed = is_sale && view.sale_state == SaleState::ended;

  CairoSurfacePtr surface(cairo_image_surface_create(CAIRO_FORMAT_ARGB32, g.width, g.height));
  CairoPtr cr(cairo_create(surface.get()));
  if (cairo_status(cr.get()) != CAIRO_STATUS_SUCCESS) return {};
  cairo_set_antialias(cr.get(), CAIRO_ANTIALIAS_GRAY);

  draw_panel(cr.get(), g, greyed);
  draw_image(cr.get(), g, view);
  draw_badge(cr.get(), g, overlay, greyed);
  draw_text(cr.get(), g, overlay, greyed);
  if (is_sale) {
    draw_countdown(cr.get(), g, view);
    draw_stock(cr.get(), g, view);
  }
  cr.reset();
  return rgba_from_surface(surface.get());
}

void CardRenderer::Impl::draw_panel(cairo_t* cr, const CardGeometry& g, bool greyed) {
  rounded_rect(cr, 0, 0, g.width, g.height, px(kCornerRadius));
  set_colour(cr, greyed ? kPanelEnded : kPanel);
  cairo_fill(cr);
}

void CardRenderer::Impl::draw_image(cairo_t* cr, const CardGeometry& g, const CardView& view) {
  const Rect& slot = g.image;
  cairo_save(cr);
  rounded_rect(cr, slot, px(kImageRadius));
  cairo_clip(cr);
  CairoSurfacePtr picture;
  if (view.image && !view.image->empty()) picture = surface_from_rgba(cover_square(*view.image, slot.width));
  if (picture) {
    set_colour(cr, kImageBacking);
    cairo_paint(cr);
    cairo_set_source_surface(cr, picture.get(), slot.x, slot.y);
    cairo_paint(cr);
  } else {
    // Neutral placeholder: a framed landscape, so a missing asset reads as "no picture",
    // not as a rendering fault.
    set_colour(cr, kPlaceholder);
    cairo_paint(cr);
    const double u = slot.width / 8.0;
    const double x = slot.x, y = slot.y;
    set_colour(cr, kPlaceholderIcon);
    cairo_set_line_width(cr, std::max(1.0, u / 4));
    rounded_rect(cr, x + 2 * u, y + 2.5 * u, 4 * u, 3 * u, u / 3);
    cairo_stroke(cr);
    cairo_move_to(cr, x + 2.3 * u, y + 5.2 * u);
    cairo_line_to(cr, x + 3.6 * u, y + 3.7 * u);
    cairo_line_to(cr, x + 4.5 * u, y + 4.6 * u);
    cairo_line_to(cr, x + 5.0 * u, y + 4.1 * u);
    cairo_line_to(cr, x + 5.7 * u, y + 5.2 * u);
    cairo_close_path(cr);
    cairo_fill(cr);
    cairo_arc(cr, x + 5.0 * u, y + 3.3 * u, 0.35 * u, 0, 2 * std::numbers::pi);
    cairo_fill(cr);
  }
  if (view.overlay->kind == control::OverlayKind::sale && view.sale_state != SaleState::active) {
    set_colour(cr, view.sale_state == SaleState::sold_out ? kImageVeil : kImageGreyVeil);
    cairo_paint(cr);
    if (view.sale_state == SaleState::sold_out) {
      const auto stamp = text.lay_out(sold_out_label(view.overlay->locale),
                                      {.size_px = px(kSoldOutStampSize), .bold = true, .centered = true}, slot.width);
      const TextExtent extent = measure(stamp.get());
      show(cr, stamp.get(), slot.x, slot.y + (slot.height - extent.height_px) / 2.0, kTitle);
    }
  }
  cairo_restore(cr);
}

void CardRenderer::Impl::draw_badge(cairo_t* cr, const CardGeometry& g, const control::Overlay& overlay, bool greyed) {
  if (overlay.badge.empty()) return;
  const int inset = px(kBadgeInset);
  const int padding_x = px(kBadgePaddingX);
  const int max_text_width = g.image.width - 2 * inset - 2 * padding_x;
  const auto badge = text.lay_out(overlay.badge, {.size_px = px(kBadgeSize), .bold = true}, max_text_width);
  const TextExtent extent = measure(badge.get());
  const double x = g.image.x + inset, y = g.image.y + inset;
  const double height = extent.height_px + 2 * px(kBadgePaddingY);
  rounded_rect(cr, x, y, extent.width_px + 2 * padding_x, height, height / 2);
  set_colour(cr, greyed ? kGreyedDark : kAccent);
  cairo_fill(cr);
  show(cr, badge.get(), x + padding_x, y + px(kBadgePaddingY), kTitle);
}

void CardRenderer::Impl::draw_text(cairo_t* cr, const CardGeometry& g, const control::Overlay& overlay, bool greyed) {
  const Rect& column = g.title;
  const auto title = text.lay_out(overlay.title, title_style(), column.width);
  show(cr, title.get(), column.x, column.y, greyed ? kGreyedText : kTitle);

  // A price is never ellipsized ("¥1,29…" misleads): a long one gets a smaller font on
  // the same baseline, and an original price that does not fit whole is left out.
  const int price_y = column.y + column.height + px(kPriceGap);
  TextStyle price_style{.size_px = px(kPriceSize), .bold = true};
  auto price = text.lay_out(overlay.price, price_style, column.width);
  const int baseline_y = price_y + measure(price.get()).baseline_px;
  while (measure(price.get()).ellipsized && price_style.size_px > px(kPriceSize * kPriceMinScale)) {
    price_style.size_px -= std::max(1, px(2));
    price = text.lay_out(overlay.price, price_style, column.width);
  }
  const TextExtent price_extent = measure(price.get());
  show(cr, price.get(), column.x, baseline_y - price_extent.baseline_px, greyed ? kGreyedText : kAccent);

  const int original_width = column.width - price_extent.width_px - px(kOriginalPriceGap);
  if (overlay.original_price.empty() || original_width <= 0) return;
  const auto original =
      text.lay_out(overlay.original_price, {.size_px = px(kOriginalPriceSize), .strikethrough = true}, original_width);
  const TextExtent original_extent = measure(original.get());
  if (original_extent.ellipsized) return;
  show(cr, original.get(), column.x + price_extent.width_px + px(kOriginalPriceGap),
       baseline_y - original_extent.baseline_px, greyed ? kGreyed : kMuted);
}

void CardRenderer::Impl::draw_countdown(cairo_t* cr, const CardGeometry& g, const CardView& view) {
  const Rect& box = g.countdown;
  const Colour fill = view.sale_state == SaleState::active     ? kAccent
                      : view.sale_state == SaleState::sold_out ? kSoldOutBox
                                                               : kGreyedDark;
  rounded_rect(cr, box, px(kCountdownRadius));
  set_colour(cr, fill);
  cairo_fill(cr);

  const bool ended = view.sale_state == SaleState::ended;
  TextStyle style = countdown_style();
  if (ended) style.size_px = px(kStockSize);
  const std::string label = ended ? ended_label(view.overlay->locale) : format_countdown(view.remaining_s);
  const auto layout = text.lay_out(label, style, 4 * g.width);
  const TextExtent extent = measure(layout.get());
  const double inner = box.width - 2 * px(kCountdownPaddingX);
  const double y = box.y + (box.height - extent.height_px) / 2.0;
  cairo_save(cr);
  rounded_rect(cr, box, px(kCountdownRadius));
  cairo_clip(cr);
  if (extent.width_px <= inner) {
    show(cr, layout.get(), box.x + (box.width - extent.width_px) / 2.0, y, ended ? kGreyedText : kTitle);
  } else {
    // Ten hours or more: squeeze horizontally rather than grow the box.
    cairo_translate(cr, box.x + px(kCountdownPaddingX), 0);
    cairo_scale(cr, inner / extent.width_px, 1);
    show(cr, layout.get(), 0, y, kTitle);
  }
  cairo_restore(cr);
}

void CardRenderer::Impl::draw_stock(cairo_t* cr, const CardGeometry& g, const CardView& view) {
  const Rect& area = g.stock;
  const control::Overlay& overlay = *view.overlay;
  const bool sold_out = view.sale_state == SaleState::sold_out || overlay.stock <= 0;
  const bool ended = view.sale_state == SaleState::ended;
  const std::string label = sold_out ? sold_out_label(overlay.locale) : stock_label(overlay.locale, overlay.stock);
  const auto layout =
      text.lay_out(label, {.size_px = px(kStockSize), .bold = sold_out, .tabular_figures = true}, area.width);
  const Colour colour = ended ? kGreyedText : sold_out ? kAccent : kTitle;
  show(cr, layout.get(), area.x, area.y, colour);

  const double bar_height = px(kBarHeight);
  const double bar_y = area.y + area.height - bar_height;
  rounded_rect(cr, area.x, bar_y, area.width, bar_height, bar_height / 2);
  set_colour(cr, kBarTrack);
  cairo_fill(cr);
  const double fraction = sold_out ? 0 : stock_bar_fraction(overlay.stock, view.stock_at_start);
  const double fill_width = std::max(bar_height, std::round(area.width * fraction));
  if (fraction <= 0) return;
  rounded_rect(cr, area.x, bar_y, fill_width, bar_height, bar_height / 2);
  if (ended) {
    set_colour(cr, kGreyedDark);
  } else {
    cairo_pattern_t* gradient = cairo_pattern_create_linear(area.x, 0, area.x + area.width, 0);
    cairo_pattern_add_color_stop_rgba(gradient, 0, kAccentLight.r, kAccentLight.g, kAccentLight.b, kAccentLight.a);
    cairo_pattern_add_color_stop_rgba(gradient, 1, kAccent.r, kAccent.g, kAccent.b, kAccent.a);
    cairo_set_source(cr, gradient);
    cairo_pattern_destroy(gradient);  // the cairo_t holds its own reference
  }
  cairo_fill(cr);
}

CardRenderer::CardRenderer(int video_height) : impl_(std::make_unique<Impl>(video_height)) {}
CardRenderer::~CardRenderer() = default;
CardRenderer::CardRenderer(CardRenderer&&) noexcept = default;
CardRenderer& CardRenderer::operator=(CardRenderer&&) noexcept = default;

RgbaImage CardRenderer::render(const CardView& view) { return impl_->render(view); }

CardGeometry CardRenderer::geometry(control::OverlayKind kind) const {
  return kind == control::OverlayKind::sale ? impl_->sale : impl_->card;
}

}  // namespace anchorcast::overlay::render
