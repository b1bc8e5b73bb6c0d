#include "relay/egress/webrtc/ice_lite_agent.hpp"

#include <openssl/rand.h>

#include "relay/protocol/stun/stun_builder.hpp"

namespace anchorcast::webrtc {

namespace {

Result<std::string> random_ice_chars(size_t count) {
  // RFC 8839 5.4 ice-char: ALPHA / DIGIT / "+" / "/". 64 symbols: one byte gives 6 bits.
  static constexpr char kIceChars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::vector<unsigned char> random(count);
  if (RAND_bytes(random.data(), static_cast<int>(count)) != 1) return make_error("RAND_bytes failed");
  std::string out;
  out.reserve(count);
  for (unsigned char r : random) out.push_back(kIceChars[r & 63]);
  return out;
}

stun::TransportAddress transport_address(const PeerAddress& peer) {
  stun::TransportAddress a;
  a.ipv6 = peer.ipv6();
  auto ip = peer.ip_bytes();
  std::copy(ip.begin(), ip.end(), a.ip.begin());
  a.port = peer.port();
  return a;
}

}  // namespace

Result<IceCredentials> IceCredentials::generate() {
  auto ufrag = random_ice_chars(8);
  if (!ufrag) return ufrag.error();
  auto pwd = random_ice_chars(24);
  if (!pwd) return pwd.error();
  return IceCredentials{std::move(*ufrag), std::move(*pwd)};
}

std::string_view local_ufrag_of(std::string_view username) { return username.substr(0, username.find(':')); }

IceLiteAgent::IceLiteAgent(IceCredentials local, std::string remote_ufrag, Clock::time_point now)
    : local_(std::move(local)),
      remote_ufrag_(std::move(remote_ufrag)),
      expected_username_(local_.ufrag + ":" + remote_ufrag_),
      last_valid_check_(now) {}

IceLiteAgent::Check IceLiteAgent::on_stun(std::span<const uint8_t> datagram, const stun::StunMessage& message,
                                          const PeerAddress& from, Clock::time_point now,
                                          std::vector<uint8_t>& response) {
  if (message.message_class != stun::MessageClass::request || message.method != stun::kMethodBinding)
    return Check::not_a_request;
  // Some agents leave the remote ufrag empty until the answer arrives; ours is known.
  if (!message.username || (*message.username != expected_username_ &&
                            local_ufrag_of(*message.username) != local_.ufrag))
    return Check::wrong_username;
  if (!message.integrity_offset || !stun::verify_message_integrity(datagram, message, local_.pwd))
    return Check::bad_integrity;

  stun::BindingSuccess success;
  success.transaction_id = message.transaction_id;
  success.mapped = transport_address(from);
  success.integrity_key = local_.pwd;
  success.fingerprint = true;
  if (!stun::build_binding_success(success, response)) return Check::bad_integrity;

  last_valid_check_ = now;
  // RFC 8445 7.3.1.5: the controlling agent nominates with USE-CANDIDATE. Until then
  // the latest checked address carries media, so playback need not wait for it.
  if (message.use_candidate) {
    selected_ = from;
    nominated_ = true;
  } else if (!nominated_) {
    selected_ = from;
  }
  return Check::answered;
}

}  // namespace anchorcast::webrtc
