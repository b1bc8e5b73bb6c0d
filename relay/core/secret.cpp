#include "anchorcast/core/secret.hpp"

#include <cstdint>

namespace anchorcast {

bool constant_time_equals(std::string_view a, std::string_view b) {
  // Walk the expected length whatever the input's length, so a probe learns nothing
  // from how long a comparison took except the length mismatch it already caused.
  size_t n = a.size() > b.size() ? a.size() : b.size();
  volatile uint8_t diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < n; ++i) {
    uint8_t x = i < a.size() ? static_cast<uint8_t>(a[i]) : 0;
    uint8_t y = i < b.size() ? static_cast<uint8_t>(b[i]) : 0;
    diff = diff | static_cast<uint8_t>(x ^ y);
  }
  return diff == 0;
}

std::string redact(std::string_view secret) {
  if (secret.empty()) return "(empty)";
  std::string out;
  out += secret.size() >= 8 ? secret.substr(0, 2) : std::string_view{};
  out += "\xE2\x80\xA6 (";
  out += std::to_string(secret.size());
  out += " chars)";
  return out;
}

}  // namespace anchorcast
