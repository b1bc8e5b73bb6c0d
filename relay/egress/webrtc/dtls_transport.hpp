// One DTLS 1.2 association over memory BIOs (no socket inside): datagrams in through
// receive(), datagrams out through the send callback. Checks the peer certificate
// against the SDP's a=fingerprint and exports SRTP keys (RFC 5764).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "anchorcast/core/result.hpp"
#include "relay/egress/webrtc/dtls_certificate.hpp"
#include "relay/egress/webrtc/srtp_keys.hpp"

namespace anchorcast::webrtc {

enum class DtlsRole : uint8_t { server, client };

// The SSL_CTX every association of one role shares: certificate, DTLS 1.2, use_srtp.
class DtlsContext {
 public:
  static Result<DtlsContext> create(const DtlsCertificate& certificate, DtlsRole role);
  SSL_CTX* get() const { return ctx_.get(); }
  DtlsRole role() const { return role_; }

 private:
  DtlsContext(SslCtxPtr ctx, DtlsRole role) : ctx_(std::move(ctx)), role_(role) {}
  SslCtxPtr ctx_;
  DtlsRole role_;
};

// The peer's a=fingerprint from its SDP.
struct PeerFingerprint {
  std::string algorithm;  // "sha-256"
  std::string value;      // "AB:CD:..."
};

class DtlsTransport {
 public:
  enum class State : uint8_t { handshaking, connected, failed, closed };
  using SendDatagram = std::function<void(std::span<const uint8_t>)>;
  using ReceiveData = std::function<void(std::span<const uint8_t>)>;  // one application record

  // DTLS records are packed into datagrams of at most this many bytes.
  static constexpr size_t kMtu = 1200;

  static Result<std::unique_ptr<DtlsTransport>> create(const DtlsContext& context, PeerFingerprint peer,
                                                       SendDatagram send);
  ~DtlsTransport();
  DtlsTransport(const DtlsTransport&) = delete;
  DtlsTransport& operator=(const DtlsTransport&) = delete;

  // Client role: sends the ClientHello. The server role waits for it.
  void start();
  // One DTLS datagram from the peer. An error (bad record, fingerprint mismatch, alert)
  // moves the association to failed; the message says why.
  Status receive(std::span<const uint8_t> datagram);
  // How long until on_timeout() must run (flight retransmission, RFC 6347 4.2.4);
  // nullopt when no timer is armed.
  std::optional<std::chrono::milliseconds> timeout() const;
  void on_timeout();
  // Sends close_notify.
  void close();
  // Application data (RFC 8261: one SCTP packet per record). Records that arrive go to
  // `on_data`; write() sends one record once connected.
  void set_data_handler(ReceiveData on_data) { on_data_ = std::move(on_data); }
  Status write(std::span<const uint8_t> data);

  State state() const { return state_; }
  // Set once connected.
  const std::optional<SrtpKeys>& srtp_keys() const { return keys_; }

 private:
  DtlsTransport(SslPtr ssl, BIO* incoming, BIO* outgoing, DtlsRole role, PeerFingerprint peer, SendDatagram send);
  Status drive_handshake();
  Status finish_handshake();
  void flush_outgoing();
  Status fail(std::string message);
  Status read_records();

  SslPtr ssl_;
  BIO* incoming_;  // owned by ssl_
  BIO* outgoing_;  // owned by ssl_
  DtlsRole role_;
  PeerFingerprint peer_;
  SendDatagram send_;
  ReceiveData on_data_;
  State state_ = State::handshaking;
  std::optional<SrtpKeys> keys_;
  std::vector<uint8_t> scratch_;
};

}  // namespace anchorcast::webrtc
