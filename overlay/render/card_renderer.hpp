// Product cards and flash-sale cards (contract: "Commerce control channel") drawn into
// premultiplied RGBA for the compositor to blend onto video. Pango lays out the text
// (Chinese, Japanese, Korean, Latin through "Noto Sans CJK SC"), Cairo draws, libavcodec
// decodes product images and libswscale scales them.
//
// Thread safety: a CardRenderer owns its Pango font map and context and is not
// thread-safe; use one per compositor thread. decode_image, cover_square and place are
// pure and may be called from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "anchorcast/core/result.hpp"
#include "overlay/control/command.hpp"

namespace anchorcast::overlay::render {

// Premultiplied RGBA, 8 bits per channel, byte order R,G,B,A in memory, rows of width*4 bytes.
struct RgbaImage {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> pixels;
  bool empty() const { return width == 0; }
};

// An image from the asset store (PNG/JPEG/WebP bytes, within control::probe_image's caps)
// decoded with libavcodec → premultiplied RGBA. Never throws; damaged bytes are an error.
Result<RgbaImage> decode_image(std::string_view bytes);

// `side`×`side`: scaled (libswscale, bicubic) to cover the square, centre cropped, like
// CSS object-fit: cover. Empty when `image` is empty or libswscale refuses. A card draws an image that is
// already geometry().image.width square as is, so the compositor can scale a product
// image once per asset instead of on every render (scaling is most of a render's cost).
RgbaImage cover_square(const RgbaImage& image, int side);

enum class SaleState { active, sold_out, ended };

// One overlay at one instant.
// Sales: `active` shows the countdown and "仅剩 23 件"/"23 left" over a stock bar;
// `sold_out` veils the image with "已抢光"/"Sold out" and empties the bar (the countdown
// keeps running); `ended` greys the whole card and shows "已结束"/"Ended" in the
// countdown box. Cards ignore the sale fields.
struct CardView {
  const control::Overlay* overlay = nullptr;  // kind card or sale; title, price, original_price, badge, locale, stock
  SaleState sale_state = SaleState::active;
  int64_t remaining_s = 0;     // sales: countdown seconds to show (mm:ss; h:mm:ss from 1 h; squeezed from 10 h)
  int64_t stock_at_start = 0;  // sales: stock when the sale started, for the bar; 0 = unknown (log scale, full at 1000)
  const RgbaImage* image = nullptr;  // null or empty = no image or missing asset → a neutral placeholder
};

// Where the parts of a card are, in card pixels (for the compositor's dirty regions and tests).
struct Rect {
  int x = 0;
  int y = 0;
  int width = 0;
  int height = 0;
};
struct CardGeometry {
  int width = 0;   // even
  int height = 0;  // even; fixed per kind so a card never changes size while shown
  Rect image;
  Rect title;
  Rect countdown;  // sales: the fixed-width countdown box (empty for cards)
  Rect stock;      // sales: stock text and bar (empty for cards)
};

// Pure function of the view: the same view renders the same pixels (the compositor may
// cache by the view's contents).
class CardRenderer {
 public:
  explicit CardRenderer(int video_height);  // laid out for 1080p, scaled by video_height / 1080
  ~CardRenderer();
  CardRenderer(const CardRenderer&) = delete;
  CardRenderer& operator=(const CardRenderer&) = delete;
  CardRenderer(CardRenderer&&) noexcept;
  CardRenderer& operator=(CardRenderer&&) noexcept;

  // A view without an overlay renders as an empty image.
  RgbaImage render(const CardView& view);
  CardGeometry geometry(control::OverlayKind kind) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

struct Placement {
  int x = 0;
  int y = 0;
};
// Where a card goes for a contract position, with safe margins of 4 % of each dimension;
// x and y are even (4:2:0 chroma) and the card stays inside the frame when it fits.
Placement place(control::Position position, int card_width, int card_height, int video_width, int video_height);

}  // namespace anchorcast::overlay::render
