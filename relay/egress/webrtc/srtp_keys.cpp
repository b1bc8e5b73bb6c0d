#include "egress/webrtc/srtp_keys.hpp"

#include <openssl/evp.h>

#include <cstring>
#include <memory>

namespace anchorcast::webrtc {

const char* srtp_profile_name(SrtpProfile profile) {
  return profile == SrtpProfile::aead_aes_128_gcm ? "SRTP_AEAD_AES_128_GCM" : "SRTP_AES128_CM_SHA1_80";
}
size_t srtp_key_length(SrtpProfile) { return 16; }
size_t srtp_salt_length(SrtpProfile profile) { return profile == SrtpProfile::aead_aes_128_gcm ? 12 : 14; }

Status derive_srtp_key(std::span<const uint8_t> master_key, std::span<const uint8_t> master_salt, SrtpKeyLabel label,
                       std::span<uint8_t> out) {
  if (master_salt.size() > 14) return make_error("SRTP master salt longer than 14 bytes");
  uint8_t iv[16] = {};
  std::memcpy(iv, master_salt.data(), master_salt.size());
  iv[7] ^= static_cast<uint8_t>(label);
  std::unique_ptr<EVP_CIPHER_CTX, void (*)(EVP_CIPHER_CTX*)> ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_128_ctr(), nullptr, master_key.data(), iv) != 1)
    return make_error("SRTP key derivation failed");
  std::memset(out.data(), 0, out.size());
  int len = 0;
  if (EVP_EncryptUpdate(ctx.get(), out.data(), &len, out.data(), static_cast<int>(out.size())) != 1)
    return make_error("SRTP key derivation failed");
  return {};
}

}  // namespace anchorcast::webrtc
