#include "relay/egress/webrtc/dtls_transport.hpp"

#include <openssl/err.h>
#include <openssl/srtp.h>

#include <cctype>
#include <cstring>

namespace anchorcast::webrtc {

namespace {

// Our preference first: AEAD GCM is cheaper per packet than CM + HMAC-SHA1.
constexpr const char* kSrtpProfiles = "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80";
constexpr size_t kRecordHeader = 13;  // RFC 6347 4.1: type, version, epoch, seq, length

int accept_any_certificate(int, X509_STORE_CTX*) {
  // Self-signed by design (RFC 8827 6.5): trust comes from the SDP fingerprint, checked
  // once the handshake completes.
  return 1;
}

bool equal_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::toupper(static_cast<unsigned char>(a[i])) != std::toupper(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

}  // namespace

Result<DtlsContext> DtlsContext::create(const DtlsCertificate& certificate, DtlsRole role) {
  SslCtxPtr ctx(SSL_CTX_new(role == DtlsRole::server ? DTLS_server_method() : DTLS_client_method()));
  if (!ctx) return make_error("SSL_CTX_new: " + take_openssl_error());
  SSL_CTX_set_min_proto_version(ctx.get(), DTLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(ctx.get(), DTLS1_2_VERSION);
  if (SSL_CTX_use_certificate(ctx.get(), certificate.x509()) != 1 ||
      SSL_CTX_use_PrivateKey(ctx.get(), certificate.key()) != 1 || SSL_CTX_check_private_key(ctx.get()) != 1)
    return make_error("DTLS certificate: " + take_openssl_error());
  if (SSL_CTX_set_cipher_list(ctx.get(),
                              "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305:"
                              "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-SHA") != 1)
    return make_error("DTLS ciphers: " + take_openssl_error());
  if (SSL_CTX_set1_groups_list(ctx.get(), "X25519:P-256") != 1)
    return make_error("DTLS groups: " + take_openssl_error());
  // Note the inverted convention: 0 is success.
  if (SSL_CTX_set_tlsext_use_srtp(ctx.get(), kSrtpProfiles) != 0)
    return make_error("DTLS use_srtp: " + take_openssl_error());
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, accept_any_certificate);
  SSL_CTX_set_read_ahead(ctx.get(), 1);
  SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_OFF);
  return DtlsContext(std::move(ctx), role);
}

Result<std::unique_ptr<DtlsTransport>> DtlsTransport::create(const DtlsContext& context, PeerFingerprint peer,
                                                             SendDatagram send) {
  SslPtr ssl(SSL_new(context.get()));
  if (!ssl) return make_error("SSL_new: " + take_openssl_error());
  BIO* incoming = BIO_new(BIO_s_mem());
  BIO* outgoing = BIO_new(BIO_s_mem());
  if (!incoming || !outgoing) {
    BIO_free(incoming);
    BIO_free(outgoing);
    return make_error("BIO_new: " + take_openssl_error());
  }
  // An empty memory BIO means "no datagram yet" (WANT_READ), not end of file.
  BIO_set_mem_eof_return(incoming, -1);
  BIO_set_mem_eof_return(outgoing, -1);
  SSL_set_bio(ssl.get(), incoming, outgoing);  // ssl owns both from here
  SSL_set_options(ssl.get(), SSL_OP_NO_QUERY_MTU);
  DTLS_set_link_mtu(ssl.get(), static_cast<long>(kMtu));
  if (context.role() == DtlsRole::server)
    SSL_set_accept_state(ssl.get());
  else
    SSL_set_connect_state(ssl.get());
  return std::unique_ptr<DtlsTransport>(
      new DtlsTransport(std::move(ssl), incoming, outgoing, context.role(), std::move(peer), std::move(send)));
}

DtlsTransport::DtlsTransport(SslPtr ssl, BIO* incoming, BIO* outgoing, DtlsRole role, PeerFingerprint peer,
                             SendDatagram send)
    : ssl_(std::move(ssl)),
      incoming_(incoming),
      outgoing_(outgoing),
      role_(role),
      peer_(std::move(peer)),
      send_(std::move(send)) {}

DtlsTransport::~DtlsTransport() = default;

void DtlsTransport::start() {
  if (role_ == DtlsRole::client && state_ == State::handshaking) (void)drive_handshake();
}

Status DtlsTransport::fail(std::string message) {
  state_ = State::failed;
  ERR_clear_error();
  flush_outgoing();  // an alert, if OpenSSL wrote one
  return make_error(std::move(message));
}

Status DtlsTransport::receive(std::span<const uint8_t> datagram) {
  if (state_ == State::failed || state_ == State::closed) return make_error("DTLS association is over");
  if (datagram.size() < kRecordHeader) return make_error("DTLS datagram shorter than a record header");
  if (BIO_write(incoming_, datagram.data(), static_cast<int>(datagram.size())) <= 0)
    return fail("DTLS: buffering the datagram failed");
  if (state_ == State::handshaking) {
    auto st = drive_handshake();
    // Records that came with the peer's last flight (read ahead) are read below.
    if (!st || state_ != State::connected) return st;
  }
  return read_records();
}

Status DtlsTransport::read_records() {
  // Connected: application data (SCTP, when a data channel was negotiated), alerts
  // (close_notify) and retransmitted final flights. A record is at most 2^14 bytes
  // (RFC 6347 4.1): a smaller buffer would split one SCTP packet in two.
  unsigned char record[16384];
  for (;;) {
    int n = SSL_read(ssl_.get(), record, sizeof record);
    if (n > 0) {
      if (on_data_) on_data_(std::span<const uint8_t>(record, static_cast<size_t>(n)));
      continue;
    }
    int err = SSL_get_error(ssl_.get(), n);
    flush_outgoing();
    if (err == SSL_ERROR_WANT_READ) return {};
    if (err == SSL_ERROR_ZERO_RETURN) {
      state_ = State::closed;
      return make_error("DTLS close_notify from the peer");
    }
    return fail("DTLS read: " + take_openssl_error());
  }
}

Status DtlsTransport::drive_handshake() {
  int rc = SSL_do_handshake(ssl_.get());
  flush_outgoing();
  if (rc == 1) return finish_handshake();
  int err = SSL_get_error(ssl_.get(), rc);
  if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
    // A datagram OpenSSL could not use (garbage, a stray record) leaves errors behind.
    ERR_clear_error();
    return {};
  }
  return fail("DTLS handshake: " + take_openssl_error());
}

Status DtlsTransport::finish_handshake() {
  X509Ptr peer_cert(SSL_get1_peer_certificate(ssl_.get()));
  if (!peer_cert) return fail("DTLS: the peer sent no certificate");
  auto actual = certificate_fingerprint(peer_cert.get(), peer_.algorithm);
  if (!actual) return fail("DTLS: " + actual.error().message);
  if (!equal_ignoring_case(*actual, peer_.value))
    return fail("DTLS: the peer certificate does not match the SDP a=fingerprint");

  const SRTP_PROTECTION_PROFILE* selected = SSL_get_selected_srtp_profile(ssl_.get());
  if (!selected) return fail("DTLS: the peer negotiated no SRTP profile (use_srtp)");
  SrtpKeys keys;
  if (selected->id == SRTP_AES128_CM_SHA1_80)
    keys.profile = SrtpProfile::aes128_cm_sha1_80;
  else if (selected->id == SRTP_AEAD_AES_128_GCM)
    keys.profile = SrtpProfile::aead_aes_128_gcm;
  else
    return fail(std::string("DTLS: unsupported SRTP profile ") + selected->name);

  // RFC 5764 4.2: client key, server key, client salt, server salt.
  const size_t key_len = srtp_key_length(keys.profile);
  const size_t salt_len = srtp_salt_length(keys.profile);
  unsigned char material[2 * (16 + 14)];
  const size_t total = 2 * (key_len + salt_len);
  static constexpr char kLabel[] = "EXTRACTOR-dtls_srtp";
  if (SSL_export_keying_material(ssl_.get(), material, total, kLabel, sizeof kLabel - 1, nullptr, 0, 0) != 1)
    return fail("DTLS: exporting SRTP keys: " + take_openssl_error());
  SrtpMasterKey client, server;
  std::memcpy(client.bytes.data(), material, key_len);
  std::memcpy(server.bytes.data(), material + key_len, key_len);
  std::memcpy(client.bytes.data() + key_len, material + 2 * key_len, salt_len);
  std::memcpy(server.bytes.data() + key_len, material + 2 * key_len + salt_len, salt_len);
  client.size = server.size = key_len + salt_len;
  OPENSSL_cleanse(material, sizeof material);
  keys.local = role_ == DtlsRole::server ? server : client;
  keys.remote = role_ == DtlsRole::server ? client : server;
  keys_ = keys;
  state_ = State::connected;
  return {};
}

std::optional<std::chrono::milliseconds> DtlsTransport::timeout() const {
  if (state_ != State::handshaking) return std::nullopt;
  timeval tv{};
  if (DTLSv1_get_timeout(ssl_.get(), &tv) != 1) return std::nullopt;
  return std::chrono::milliseconds(tv.tv_sec * 1000 + tv.tv_usec / 1000);
}

void DtlsTransport::on_timeout() {
  if (state_ != State::handshaking) return;
  if (DTLSv1_handle_timeout(ssl_.get()) < 0) {
    (void)fail("DTLS: handshake timed out");
    return;
  }
  flush_outgoing();
}

void DtlsTransport::close() {
  if (state_ == State::connected || state_ == State::handshaking) {
    SSL_shutdown(ssl_.get());
    ERR_clear_error();
    flush_outgoing();
  }
  state_ = State::closed;
}

Status DtlsTransport::write(std::span<const uint8_t> data) {
  if (state_ != State::connected) return make_error("DTLS: not connected");
  if (data.empty() || data.size() > 16384) return make_error("DTLS: application data must be 1..16384 bytes");
  int n = SSL_write(ssl_.get(), data.data(), static_cast<int>(data.size()));
  flush_outgoing();
  if (n <= 0) {
    ERR_clear_error();
    return make_error("DTLS: write failed");
  }
  return {};
}

void DtlsTransport::flush_outgoing() {
  // A memory BIO concatenates records; DTLS needs datagrams. Cut at record boundaries
  // into datagrams of at most kMtu bytes (OpenSSL already fragments handshake
  // messages to the link MTU, so every record fits).
  size_t pending = BIO_ctrl_pending(outgoing_);
  if (pending == 0) return;
  scratch_.resize(pending);
  int n = BIO_read(outgoing_, scratch_.data(), static_cast<int>(pending));
  if (n <= 0) return;
  std::span<const uint8_t> bytes(scratch_.data(), static_cast<size_t>(n));
  size_t start = 0, pos = 0;
  while (pos + kRecordHeader <= bytes.size()) {
    size_t record = kRecordHeader + (size_t(bytes[pos + 11]) << 8 | bytes[pos + 12]);
    if (pos + record > bytes.size()) break;
    if (pos + record - start > kMtu && pos > start) {
      send_(bytes.subspan(start, pos - start));
      start = pos;
    }
    pos += record;
  }
  if (bytes.size() > start) send_(bytes.subspan(start));
}

}  // namespace anchorcast::webrtc
