// ICE-lite (RFC 8445 2.5) for one session: the browser is the controlling full agent and
// sends Binding requests; we check them with our ice-pwd, answer, take the nominated
// address (USE-CANDIDATE) and watch consent (RFC 7675: no valid check for 30 s ends it).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "anchorcast/core/result.hpp"
#include "relay/egress/webrtc/udp_socket.hpp"
#include "relay/protocol/stun/stun_message.hpp"

namespace anchorcast::webrtc {

struct IceCredentials {
  std::string ufrag;  // 8 characters of ice-char (RFC 8839 5.4)
  std::string pwd;    // 24 characters: a secret, never logged

  static Result<IceCredentials> generate();
};

// The part of a STUN USERNAME before ':' — our ufrag in a request sent to us.
std::string_view local_ufrag_of(std::string_view username);

class IceLiteAgent {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::seconds kConsentTimeout{30};

  enum class Check : uint8_t {
    answered,         // valid: `response` holds the Binding success
    wrong_username,   // USERNAME is not "<our ufrag>:<their ufrag>"
    bad_integrity,    // MESSAGE-INTEGRITY missing or not made with our ice-pwd
    not_a_request,    // a response or indication: nothing to answer
  };

  IceLiteAgent(IceCredentials local, std::string remote_ufrag, Clock::time_point now);

  // A parsed STUN datagram from `from`. On `answered` the response is in `response` and
  // `from` may have become the selected address.
  Check on_stun(std::span<const uint8_t> datagram, const stun::StunMessage& message, const PeerAddress& from,
                Clock::time_point now, std::vector<uint8_t>& response);

  const IceCredentials& local() const { return local_; }
  // Where media goes: the nominated address, else the latest address that passed a check.
  const std::optional<PeerAddress>& selected() const { return selected_; }
  bool nominated() const { return nominated_; }
  bool consent_expired(Clock::time_point now) const { return now - last_valid_check_ > kConsentTimeout; }

 private:
  IceCredentials local_;
  std::string remote_ufrag_;
  std::string expected_username_;  // "<our ufrag>:<their ufrag>"
  std::optional<PeerAddress> selected_;
  bool nominated_ = false;
  Clock::time_point last_valid_check_;
};

}  // namespace anchorcast::webrtc
