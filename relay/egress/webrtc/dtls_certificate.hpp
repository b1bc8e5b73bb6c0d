// The DTLS identity of the WebRTC egress: an ECDSA P-256 self-signed certificate made at
// start-up (browsers accept any certificate whose fingerprint the SDP carries, RFC 8122),
// shared read-only by every session.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "anchorcast/core/result.hpp"
#include "relay/egress/webrtc/openssl_handles.hpp"

namespace anchorcast::webrtc {

class DtlsCertificate {
 public:
  static Result<DtlsCertificate> generate(std::string_view common_name = "anchorcast");

  X509* x509() const { return cert_.get(); }
  EVP_PKEY* key() const { return key_.get(); }
  // "AB:CD:..." (32 bytes), the value of the answer's a=fingerprint:sha-256.
  const std::string& sha256_fingerprint() const { return fingerprint_; }

 private:
  DtlsCertificate(PkeyPtr key, X509Ptr cert, std::string fingerprint)
      : key_(std::move(key)), cert_(std::move(cert)), fingerprint_(std::move(fingerprint)) {}
  PkeyPtr key_;
  X509Ptr cert_;
  std::string fingerprint_;
};

// The certificate's digest as SDP writes it: upper-case hex bytes joined by ':'.
// `algorithm` is the SDP name ("sha-256", "sha-1", "sha-384", "sha-512").
Result<std::string> certificate_fingerprint(X509* cert, std::string_view algorithm);

}  // namespace anchorcast::webrtc
