// The words and numbers a flash sale shows, by the overlay's `locale` (contract: `zh`
// default, or `en`; anything else falls back to Chinese like the control channel does).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace anchorcast::overlay::render {

// "mm:ss" below an hour, "h:mm:ss" from an hour on; negative counts as 0.
std::string format_countdown(int64_t remaining_s);
// The widest countdown text for the box's fixed width (below 10 h; more hours squeeze).
constexpr std::string_view kWidestCountdown = "0:00:00";

std::string stock_label(std::string_view locale, int64_t stock);  // "仅剩 23 件" / "23 left"
std::string sold_out_label(std::string_view locale);               // "已抢光" / "Sold out"
std::string ended_label(std::string_view locale);                  // "已结束" / "Ended"

// How full the stock bar is, 0…1. With the stock at the start of the sale it is the
// share left. Without it (the contract carries only the current stock) it is a log
// scale full at 1000 or more: an urgency cue that keeps moving at any stock size, where
// a linear bar against a guessed maximum would sit full or empty for most sales.
double stock_bar_fraction(int64_t stock, int64_t stock_at_start);

}  // namespace anchorcast::overlay::render
