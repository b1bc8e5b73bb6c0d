#include "overlay/render/text_layout.hpp"

#include <algorithm>
#include <string>

#include <pango/pangocairo.h>

namespace anchorcast::overlay::render {

namespace {

// Fallbacks only matter on a machine without fonts-noto-cjk; Pango then picks what
// fontconfig has rather than drawing boxes for Latin.
constexpr const char* kFontFamilies = "Noto Sans CJK SC,Noto Sans,sans-serif";

std::string sanitized(std::string_view utf8) {
  gchar* valid = g_utf8_make_valid(utf8.data(), static_cast<gssize>(utf8.size()));
  std::string text(valid);
  g_free(valid);
  // One paragraph: a newline from a merchant must not take a line from the title's two.
  for (char& c : text)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) c = ' ';
  return text;
}

}  // namespace

TextLayouter::TextLayouter() : font_map_(pango_cairo_font_map_new()) {
  context_.reset(pango_font_map_create_context(font_map_.get()));
  // Determinism over crispness on screens we never see: no hinting (it depends on
  // FreeType's settings), grey antialiasing (no subpixel order), unhinted metrics.
  CairoFontOptionsPtr options(cairo_font_options_create());
  cairo_font_options_set_antialias(options.get(), CAIRO_ANTIALIAS_GRAY);
  cairo_font_options_set_hint_style(options.get(), CAIRO_HINT_STYLE_NONE);
  cairo_font_options_set_hint_metrics(options.get(), CAIRO_HINT_METRICS_OFF);
  pango_cairo_context_set_font_options(context_.get(), options.get());
  pango_cairo_context_set_resolution(context_.get(), 72.0);
  // The environment's locale would otherwise pick the language and so the CJK glyph forms.
  pango_context_set_language(context_.get(), pango_language_from_string("zh-cn"));
  pango_context_set_base_dir(context_.get(), PANGO_DIRECTION_LTR);
}

PangoLayoutPtr TextLayouter::lay_out(std::string_view utf8, const TextStyle& style, int width_px) const {
  PangoLayoutPtr layout(pango_layout_new(context_.get()));
  PangoFontDescriptionPtr font(pango_font_description_from_string(kFontFamilies));
  pango_font_description_set_absolute_size(font.get(), style.size_px * PANGO_SCALE);
  pango_font_description_set_weight(font.get(), style.bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
  pango_layout_set_font_description(layout.get(), font.get());

  PangoAttrListPtr attributes(pango_attr_list_new());
  if (style.tabular_figures) pango_attr_list_insert(attributes.get(), pango_attr_font_features_new("tnum 1"));
  if (style.strikethrough) pango_attr_list_insert(attributes.get(), pango_attr_strikethrough_new(TRUE));
  pango_layout_set_attributes(layout.get(), attributes.get());

  pango_layout_set_width(layout.get(), width_px * PANGO_SCALE);
  pango_layout_set_height(layout.get(), -std::max(1, style.max_lines));
  pango_layout_set_wrap(layout.get(), PANGO_WRAP_WORD_CHAR);
  pango_layout_set_ellipsize(layout.get(), PANGO_ELLIPSIZE_END);
  pango_layout_set_alignment(layout.get(), style.centered ? PANGO_ALIGN_CENTER : PANGO_ALIGN_LEFT);
  const std::string text = sanitized(utf8);
  pango_layout_set_text(layout.get(), text.data(), static_cast<int>(text.size()));
  return layout;
}

TextExtent measure(PangoLayout* layout) {
  PangoRectangle logical;
  pango_layout_get_pixel_extents(layout, nullptr, &logical);
  TextExtent extent;
  extent.width_px = logical.width;
  extent.height_px = logical.height;
  extent.baseline_px = pango_layout_get_baseline(layout) / PANGO_SCALE;
  extent.line_count = pango_layout_get_line_count(layout);
  extent.ellipsized = pango_layout_is_ellipsized(layout);
  return extent;
}

}  // namespace anchorcast::overlay::render
