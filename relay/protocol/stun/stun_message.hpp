// STUN messages (RFC 8489, formerly RFC 5389) as ICE-lite needs them (RFC 8445): the
// header, the attributes of a connectivity check, MESSAGE-INTEGRITY (HMAC-SHA1 with the
// short-term credential) and FINGERPRINT. Parsing is pure and bounded; every attribute
// value is a view into the input, so a StunMessage lives no longer than its bytes.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "anchorcast/core/result.hpp"

namespace anchorcast::stun {

inline constexpr uint32_t kMagicCookie = 0x2112A442;
inline constexpr size_t kHeaderSize = 20;
// A connectivity check fits a datagram; anything larger is refused before parsing.
inline constexpr size_t kMaxMessageSize = 4096;
inline constexpr uint32_t kFingerprintXor = 0x5354554E;  // RFC 8489 §14.7
inline constexpr size_t kMaxUsernameSize = 513;          // RFC 8489 §14.3

inline constexpr uint16_t kMethodBinding = 0x001;

namespace attr {
inline constexpr uint16_t kMappedAddress = 0x0001;
inline constexpr uint16_t kUsername = 0x0006;
inline constexpr uint16_t kMessageIntegrity = 0x0008;
inline constexpr uint16_t kErrorCode = 0x0009;
inline constexpr uint16_t kXorMappedAddress = 0x0020;
inline constexpr uint16_t kPriority = 0x0024;       // RFC 8445 §16.1
inline constexpr uint16_t kUseCandidate = 0x0025;   // RFC 8445 §16.1
inline constexpr uint16_t kSoftware = 0x8022;
inline constexpr uint16_t kFingerprint = 0x8028;
inline constexpr uint16_t kIceControlled = 0x8029;  // RFC 8445 §16.1
inline constexpr uint16_t kIceControlling = 0x802A;
}  // namespace attr

enum class MessageClass : uint8_t { request = 0, indication = 1, success = 2, error = 3 };

using TransactionId = std::array<uint8_t, 12>;

struct TransportAddress {
  bool ipv6 = false;
  std::array<uint8_t, 16> ip{};  // IPv4 in the first 4 bytes, network order
  uint16_t port = 0;
  friend bool operator==(const TransportAddress&, const TransportAddress&) = default;
};

struct StunMessage {
  MessageClass message_class = MessageClass::request;
  uint16_t method = 0;
  TransactionId transaction_id{};

  std::optional<std::string_view> username;
  std::optional<uint32_t> priority;
  bool use_candidate = false;
  std::optional<uint64_t> ice_controlling;  // tie-breaker
  std::optional<uint64_t> ice_controlled;
  std::optional<TransportAddress> xor_mapped_address;
  std::optional<uint16_t> error_code;  // class * 100 + number (e.g. 401, 487)
  std::optional<std::string_view> software;

  // Where MESSAGE-INTEGRITY starts (its attribute header) in the parsed bytes, when
  // present; verify_message_integrity() needs it.
  std::optional<size_t> integrity_offset;
  bool has_fingerprint = false;  // and it was checked: a wrong one fails the parse
  // Comprehension-required attributes (type < 0x8000) we do not know; a request with
  // any deserves a 420 (RFC 8489 §7.3.1). The first few are kept.
  std::array<uint16_t, 4> unknown_required{};
  size_t unknown_required_count = 0;
};

// RFC 7983 §7: a datagram whose first byte is 0..3 and which carries the magic cookie.
bool looks_like_stun(std::span<const uint8_t> datagram);

// The whole datagram must be one message: header length == datagram size - 20. A
// FINGERPRINT, when present, must be last and correct; attributes after
// MESSAGE-INTEGRITY other than FINGERPRINT are ignored (RFC 8489 §14.5).
Result<StunMessage> parse_stun(std::span<const uint8_t> datagram);

// HMAC-SHA1 over the message up to MESSAGE-INTEGRITY with the header length covering
// the attribute (RFC 8489 §14.5); `key` is the short-term password (ICE: the ice-pwd of
// the agent receiving the request). False when the message has no MESSAGE-INTEGRITY.
bool verify_message_integrity(std::span<const uint8_t> datagram, const StunMessage& message,
                              std::string_view key);

}  // namespace anchorcast::stun
