// One direction of SRTP/SRTCP (libsrtp2) keyed from DTLS: an outbound session protects
// what we send, an inbound one unprotects what the peer sends. Protect copies into a
// buffer the session owns and reuses: no allocation per packet. Sessions send RTCP
// through it; media RTP goes through SrtpRtpSealer (srtp_rtp_sealer.hpp), which this
// class is the test oracle for.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "anchorcast/core/result.hpp"
#include "relay/egress/webrtc/srtp_keys.hpp"

struct srtp_ctx_t_;

namespace anchorcast::webrtc {

// srtp_init() once per process, thread-safe; later calls return the first outcome.
Status ensure_srtp_initialized();

class SrtpSession {
 public:
  enum class Direction : uint8_t { outbound, inbound };
  static constexpr size_t kMaxPacketBytes = 1500;
  // What protect adds at most: the auth tag, and SRTCP's 4-byte index.
  static constexpr size_t kMaxTrailerBytes = 16 + 4;

  static Result<SrtpSession> create(Direction direction, SrtpProfile profile, std::span<const uint8_t> key_salt);
  SrtpSession(SrtpSession&&) noexcept = default;
  SrtpSession& operator=(SrtpSession&&) noexcept = default;

  // Outbound. The span points into the session's buffer, valid until the next call.
  // A repeated sequence number (a NACK retransmission) is allowed.
  Result<std::span<const uint8_t>> protect_rtp(std::span<const uint8_t> rtp);
  Result<std::span<const uint8_t>> protect_rtcp(std::span<const uint8_t> rtcp);
  // Inbound, in place: returns the plaintext prefix of `packet`.
  Result<std::span<uint8_t>> unprotect_rtp(std::span<uint8_t> packet);
  Result<std::span<uint8_t>> unprotect_rtcp(std::span<uint8_t> packet);

  Direction direction() const { return direction_; }

 private:
  struct Deleter {
    void operator()(srtp_ctx_t_* session) const;
  };
  SrtpSession(std::unique_ptr<srtp_ctx_t_, Deleter> session, Direction direction)
      : session_(std::move(session)), direction_(direction) {}

  std::unique_ptr<srtp_ctx_t_, Deleter> session_;
  Direction direction_;
  std::vector<uint8_t> buffer_;
};

}  // namespace anchorcast::webrtc
