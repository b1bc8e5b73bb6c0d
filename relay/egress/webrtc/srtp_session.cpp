#include "relay/egress/webrtc/srtp_session.hpp"

#include <srtp2/srtp.h>

#include <cstring>
#include <mutex>
#include <string>

namespace anchorcast::webrtc {

namespace {

constexpr size_t kMaxPacket = SrtpSession::kMaxPacketBytes;
// SRTCP adds a 4-byte index to the auth tag (RFC 3711 3.4).
constexpr size_t kMaxTrailer = SrtpSession::kMaxTrailerBytes;
// SRTP_MAX_TRAILER_LEN (144) reserves room for an MKI we never configure: without MKI
// libsrtp writes only the tag (10 or 16 bytes), plus the SRTCP index.
static_assert(kMaxTrailer >= SRTP_MAX_TAG_LEN + 4);
// The replay window of the outbound stream bounds how old a retransmitted packet may
// be: 1024 packets ≈ 3 s of 2.5 Mbps video, beyond the NACK history anyway.
constexpr unsigned long kWindowPackets = 1024;

std::string srtp_error_text(const char* what, srtp_err_status_t status) {
  return std::string(what) + " failed (libsrtp status " + std::to_string(static_cast<int>(status)) + ")";
}

}  // namespace

Status ensure_srtp_initialized() {
  static std::once_flag once;
  static srtp_err_status_t status = srtp_err_status_ok;
  std::call_once(once, [] { status = srtp_init(); });
  if (status != srtp_err_status_ok) return make_error(srtp_error_text("srtp_init", status));
  return {};
}

void SrtpSession::Deleter::operator()(srtp_ctx_t_* session) const { srtp_dealloc(session); }

Result<SrtpSession> SrtpSession::create(Direction direction, SrtpProfile profile,
                                        std::span<const uint8_t> key_salt) {
  if (auto st = ensure_srtp_initialized(); !st) return st.error();
  if (key_salt.size() != srtp_key_length(profile) + srtp_salt_length(profile))
    return make_error(std::string("SRTP master key+salt for ") + srtp_profile_name(profile) + " has a wrong length");

  srtp_policy_t policy;
  std::memset(&policy, 0, sizeof policy);
  if (profile == SrtpProfile::aead_aes_128_gcm) {
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtp);
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtcp);
  } else {
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtp);
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp);
  }
  policy.ssrc.type = direction == Direction::outbound ? ssrc_any_outbound : ssrc_any_inbound;
  // libsrtp reads the key through a non-const pointer but does not write it.
  unsigned char key[32];
  std::memcpy(key, key_salt.data(), key_salt.size());
  policy.key = key;
  policy.window_size = kWindowPackets;
  policy.allow_repeat_tx = 1;
  policy.next = nullptr;

  srtp_t raw = nullptr;
  srtp_err_status_t status = srtp_create(&raw, &policy);
  std::memset(key, 0, sizeof key);
  if (status != srtp_err_status_ok) return make_error(srtp_error_text("srtp_create", status));
  SrtpSession session(std::unique_ptr<srtp_ctx_t_, Deleter>(raw), direction);
  session.buffer_.resize(kMaxPacket + kMaxTrailer);
  return session;
}

Result<std::span<const uint8_t>> SrtpSession::protect_rtp(std::span<const uint8_t> rtp) {
  if (direction_ != Direction::outbound) return make_error("protect on an inbound SRTP session");
  if (rtp.size() < 12 || rtp.size() > kMaxPacket) return make_error("RTP packet length out of range");
  std::memcpy(buffer_.data(), rtp.data(), rtp.size());
  int len = static_cast<int>(rtp.size());
  srtp_err_status_t status = srtp_protect(session_.get(), buffer_.data(), &len);
  if (status != srtp_err_status_ok) return make_error(srtp_error_text("srtp_protect", status));
  return std::span<const uint8_t>(buffer_.data(), static_cast<size_t>(len));
}

Result<std::span<const uint8_t>> SrtpSession::protect_rtcp(std::span<const uint8_t> rtcp) {
  if (direction_ != Direction::outbound) return make_error("protect on an inbound SRTP session");
  if (rtcp.size() < 8 || rtcp.size() > kMaxPacket) return make_error("RTCP packet length out of range");
  std::memcpy(buffer_.data(), rtcp.data(), rtcp.size());
  int len = static_cast<int>(rtcp.size());
  srtp_err_status_t status = srtp_protect_rtcp(session_.get(), buffer_.data(), &len);
  if (status != srtp_err_status_ok) return make_error(srtp_error_text("srtp_protect_rtcp", status));
  return std::span<const uint8_t>(buffer_.data(), static_cast<size_t>(len));
}

Result<std::span<uint8_t>> SrtpSession::unprotect_rtp(std::span<uint8_t> packet) {
  if (direction_ != Direction::inbound) return make_error("unprotect on an outbound SRTP session");
  if (packet.size() < 12 || packet.size() > kMaxPacket + kMaxTrailer) return make_error("SRTP length out of range");
  int len = static_cast<int>(packet.size());
  srtp_err_status_t status = srtp_unprotect(session_.get(), packet.data(), &len);
  if (status != srtp_err_status_ok) return make_error(srtp_error_text("srtp_unprotect", status));
  return packet.first(static_cast<size_t>(len));
}

Result<std::span<uint8_t>> SrtpSession::unprotect_rtcp(std::span<uint8_t> packet) {
  if (direction_ != Direction::inbound) return make_error("unprotect on an outbound SRTP session");
  if (packet.size() < 8 || packet.size() > kMaxPacket + kMaxTrailer) return make_error("SRTCP length out of range");
  int len = static_cast<int>(packet.size());
  srtp_err_status_t status = srtp_unprotect_rtcp(session_.get(), packet.data(), &len);
  if (status != srtp_err_status_ok) return make_error(srtp_error_text("srtp_unprotect_rtcp", status));
  return packet.first(static_cast<size_t>(len));
}

}  // namespace anchorcast::webrtc
