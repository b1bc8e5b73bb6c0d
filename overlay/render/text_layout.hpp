// Text for cards: Pango layouts in "Noto Sans CJK SC" (one family covers Chinese,
// Japanese, Korean and Latin), with fixed font options so the same text rasterises to
// the same pixels on every machine with the same Debian packages.
#pragma once

#include <string_view>

#include "overlay/render/graphics_handles.hpp"

namespace anchorcast::overlay::render {

struct TextStyle {
  int size_px = 24;
  bool bold = false;
  bool tabular_figures = false;  // OpenType tnum: every digit one advance, so counters never jitter
  bool strikethrough = false;
  bool centered = false;
  int max_lines = 1;  // more text is ellipsized at the end of the last line
};

struct TextExtent {
  int width_px = 0;   // logical (advance) width, not ink
  int height_px = 0;
  int baseline_px = 0;  // from the top of the first line
  int line_count = 0;
  bool ellipsized = false;
};

// Owns a Pango font map and context: one per CardRenderer, because a Pango font map is
// not safe to share between threads.
class TextLayouter {
 public:
  TextLayouter();
  // `utf8` is sanitised (invalid bytes replaced, control characters as spaces). Lines
  // are `width_px` wide, broken at words, or between characters for CJK and long words.
  PangoLayoutPtr lay_out(std::string_view utf8, const TextStyle& style, int width_px) const;

 private:
  PangoFontMapPtr font_map_;
  PangoContextPtr context_;
};

TextExtent measure(PangoLayout* layout);

}  // namespace anchorcast::overlay::render
