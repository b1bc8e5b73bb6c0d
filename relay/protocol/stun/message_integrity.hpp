// MESSAGE-INTEGRITY (RFC 8489 §14.5): HMAC-SHA1 over the message up to the attribute,
// with the header's length field set as if the message ended right after it.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "anchorcast/core/result.hpp"

namespace anchorcast::stun {

inline constexpr size_t kIntegritySize = 20;

// `prefix`: the header and every attribute before MESSAGE-INTEGRITY. Fails when it is
// shorter than a header or longer than kMaxMessageSize.
Result<std::array<uint8_t, kIntegritySize>> message_integrity(std::span<const uint8_t> prefix,
                                                              std::string_view key);

}  // namespace anchorcast::stun
