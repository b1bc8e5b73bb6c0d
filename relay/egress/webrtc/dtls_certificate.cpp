#include "relay/egress/webrtc/dtls_certificate.hpp"

#include <openssl/err.h>
#include <openssl/rand.h>

#include <cctype>

namespace anchorcast::webrtc {

std::string take_openssl_error() {
  unsigned long code = ERR_peek_last_error();
  std::string text = "unknown OpenSSL error";
  if (code != 0) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    text = buf;
  }
  ERR_clear_error();
  return text;
}

namespace {

const EVP_MD* digest_by_sdp_name(std::string_view algorithm) {
  std::string lower;
  for (char c : algorithm) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  if (lower == "sha-256") return EVP_sha256();
  if (lower == "sha-1") return EVP_sha1();
  if (lower == "sha-384") return EVP_sha384();
  if (lower == "sha-512") return EVP_sha512();
  return nullptr;
}

}  // namespace

Result<std::string> certificate_fingerprint(X509* cert, std::string_view algorithm) {
  const EVP_MD* md = digest_by_sdp_name(algorithm);
  if (!md) return make_error("fingerprint hash '" + std::string(algorithm) + "' is not supported");
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (X509_digest(cert, md, digest, &size) != 1) return make_error("X509_digest: " + take_openssl_error());
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(size * 3);
  for (unsigned int i = 0; i < size; ++i) {
    if (i) out.push_back(':');
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 15]);
  }
  return out;
}

Result<DtlsCertificate> DtlsCertificate::generate(std::string_view common_name) {
  PkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return make_error("ECDSA P-256 key: " + take_openssl_error());

  X509Ptr cert(X509_new());
  if (!cert) return make_error("X509_new: " + take_openssl_error());
  X509_set_version(cert.get(), 2);
  // A random serial: browsers cache DTLS certificates by issuer+serial.
  unsigned char serial[8];
  if (RAND_bytes(serial, sizeof serial) != 1) return make_error("RAND_bytes: " + take_openssl_error());
  serial[0] &= 0x7F;
  std::unique_ptr<BIGNUM, OpenSslDeleter> bn(BN_bin2bn(serial, sizeof serial, nullptr));
  if (!bn || !BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert.get())))
    return make_error("certificate serial: " + take_openssl_error());
  // Valid from a day ago (clock skew) for 30 days; a fresh one is made at each start.
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -24L * 3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 30L * 24 * 3600);
  X509_NAME* name = X509_get_subject_name(cert.get());
  std::string cn(common_name);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(cn.c_str()), -1,
                             -1, 0);
  X509_set_issuer_name(cert.get(), name);
  if (X509_set_pubkey(cert.get(), key.get()) != 1 || X509_sign(cert.get(), key.get(), EVP_sha256()) <= 0)
    return make_error("self-signing the DTLS certificate: " + take_openssl_error());

  auto fingerprint = certificate_fingerprint(cert.get(), "sha-256");
  if (!fingerprint) return fingerprint.error();
  return DtlsCertificate(std::move(key), std::move(cert), std::move(*fingerprint));
}

}  // namespace anchorcast::webrtc
