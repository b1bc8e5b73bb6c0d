#include "relay/protocol/stun/message_integrity.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstring>

#include "relay/protocol/stun/stun_message.hpp"

namespace anchorcast::stun {

Result<std::array<uint8_t, kIntegritySize>> message_integrity(std::span<const uint8_t> prefix,
                                                              std::string_view key) {
  if (prefix.size() < kHeaderSize || prefix.size() + 4 + kIntegritySize > kMaxMessageSize)
    return make_error("STUN message of " + std::to_string(prefix.size()) +
                      " bytes cannot carry MESSAGE-INTEGRITY");
  // The length field must cover MESSAGE-INTEGRITY itself, so hash a patched copy.
  std::array<uint8_t, kMaxMessageSize> copy;
  std::memcpy(copy.data(), prefix.data(), prefix.size());
  const size_t length = prefix.size() - kHeaderSize + 4 + kIntegritySize;
  copy[2] = static_cast<uint8_t>(length >> 8);
  copy[3] = static_cast<uint8_t>(length);
  std::array<uint8_t, kIntegritySize> mac{};
  unsigned int mac_size = 0;
  if (!HMAC(EVP_sha1(), key.data(), static_cast<int>(key.size()), copy.data(), prefix.size(),
            mac.data(), &mac_size) ||
      mac_size != kIntegritySize)
    return make_error("HMAC-SHA1 failed");
  return mac;
}

}  // namespace anchorcast::stun
