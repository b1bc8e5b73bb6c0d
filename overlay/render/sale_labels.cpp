#include "overlay/render/sale_labels.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace anchorcast::overlay::render {

namespace {
bool is_english(std::string_view locale) { return locale == "en" || locale.starts_with("en-"); }
constexpr double kLogScaleFullStock = 1000;
}  // namespace

std::string format_countdown(int64_t remaining_s) {
  const int64_t s = std::max<int64_t>(0, remaining_s);
  char text[32];
  if (s < 3600)
    std::snprintf(text, sizeof text, "%02lld:%02lld", static_cast<long long>(s / 60), static_cast<long long>(s % 60));
  else
    std::snprintf(text, sizeof text, "%lld:%02lld:%02lld", static_cast<long long>(s / 3600),
                  static_cast<long long>(s / 60 % 60), static_cast<long long>(s % 60));
  return text;
}

std::string stock_label(std::string_view locale, int64_t stock) {
  const std::string count = std::to_string(std::max<int64_t>(0, stock));
  return is_english(locale) ? count + " left" : "仅剩 " + count + " 件";
}

std::string sold_out_label(std::string_view locale) { return is_english(locale) ? "Sold out" : "已抢光"; }

std::string ended_label(std::string_view locale) { return is_english(locale) ? "Ended" : "已结束"; }

double stock_bar_fraction(int64_t stock, int64_t stock_at_start) {
  if (stock <= 0) return 0;
  if (stock_at_start > 0) return std::min(1.0, static_cast<double>(stock) / static_cast<double>(stock_at_start));
  return std::min(1.0, std::log10(1.0 + static_cast<double>(stock)) / std::log10(1.0 + kLogScaleFullStock));
}

}  // namespace anchorcast::overlay::render
