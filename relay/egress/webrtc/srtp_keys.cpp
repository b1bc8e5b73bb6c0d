#include "relay/egress/webrtc/srtp_keys.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cstring>
#include <memory>

namespace anchorcast::webrtc {

const char* srtp_profile_name(SrtpProfile profile) {
  return profile == SrtpProfile::aead_aes_128_gcm ? "SRTP_AEAD_AES_128_GCM" : "SRTP_AES128_CM_SHA1_80";
}
size_t srtp_key_length(SrtpProfile) { return 16; }
size_t srtp_salt_length(SrtpProfile profile) { return profile == SrtpProfile::aead_aes_128_gcm ? 12 : 14; }

namespace {

// RFC 3711 4.3.1: x = label at byte 7 XOR the master salt; the key stream of AES-CM
// (counter mode) keyed with the master key is the session key.
Status derive(std::span<const uint8_t> master_key, std::span<const uint8_t> master_salt, uint8_t label,
              std::span<uint8_t> out) {
  uint8_t iv[16] = {};
  std::memcpy(iv, master_salt.data(), master_salt.size());
  iv[7] ^= label;
  std::unique_ptr<EVP_CIPHER_CTX, void (*)(EVP_CIPHER_CTX*)> ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_128_ctr(), nullptr, master_key.data(), iv) != 1)
    return make_error("SRTP key derivation failed");
  std::memset(out.data(), 0, out.size());
  int len = 0;
  if (EVP_EncryptUpdate(ctx.get(), out.data(), &len, out.data(), static_cast<int>(out.size())) != 1)
    return make_error("SRTP key derivation failed");
  return {};
}

}  // namespace

SrtpSessionKeys::~SrtpSessionKeys() {
  OPENSSL_cleanse(encryption.data(), encryption.size());
  OPENSSL_cleanse(authentication.data(), authentication.size());
  OPENSSL_cleanse(salt.data(), salt.size());
}

Result<SrtpSessionKeys> derive_srtp_session_keys(SrtpProfile profile, std::span<const uint8_t> master_key_salt,
                                                 SrtpChannel channel) {
  const size_t key_len = srtp_key_length(profile), salt_len = srtp_salt_length(profile);
  if (master_key_salt.size() != key_len + salt_len) return make_error("SRTP master key+salt has a wrong length");
  const auto key = master_key_salt.first(key_len);
  const auto salt = master_key_salt.subspan(key_len);
  const uint8_t base = channel == SrtpChannel::rtp ? 0x00 : 0x03;  // encryption, authentication, salt
  SrtpSessionKeys keys;
  if (auto st = derive(key, salt, base, keys.encryption); !st) return st.error();
  if (profile == SrtpProfile::aes128_cm_sha1_80)
    if (auto st = derive(key, salt, base + 1, keys.authentication); !st) return st.error();
  if (auto st = derive(key, salt, base + 2, std::span(keys.salt).first(salt_len)); !st) return st.error();
  return keys;
}

Result<HmacContext> make_hmac_sha1(std::span<const uint8_t> key) {
  std::unique_ptr<EVP_MAC, void (*)(EVP_MAC*)> hmac(EVP_MAC_fetch(nullptr, "HMAC", nullptr), EVP_MAC_free);
  if (!hmac) return make_error("HMAC unavailable");
  HmacContext ctx(EVP_MAC_CTX_new(hmac.get()), EVP_MAC_CTX_free);
  char digest[] = "SHA1";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0), OSSL_PARAM_construct_end()};
  if (!ctx || EVP_MAC_init(ctx.get(), key.data(), key.size(), params) != 1) return make_error("HMAC-SHA1 init failed");
  return ctx;
}

}  // namespace anchorcast::webrtc
