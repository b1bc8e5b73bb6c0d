// Building the STUN messages ICE-lite sends (Binding success responses) and a full
// agent or load generator sends (Binding requests). Output goes into a caller-owned
// buffer that is cleared first and reused.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "anchorcast/core/result.hpp"
#include "relay/protocol/stun/stun_message.hpp"

namespace anchorcast::stun {

struct BindingSuccess {
  TransactionId transaction_id{};
  TransportAddress mapped;      // the request's source address, as seen by us
  std::string_view integrity_key;  // our ice-pwd; empty: no MESSAGE-INTEGRITY
  std::string_view software;       // empty: no SOFTWARE
  bool fingerprint = true;
};

struct BindingRequest {
  TransactionId transaction_id{};
  std::string_view username;       // "<their ufrag>:<our ufrag>" (RFC 8445 §7.2.2)
  std::string_view integrity_key;  // their ice-pwd
  std::optional<uint32_t> priority;
  bool use_candidate = false;
  std::optional<uint64_t> ice_controlling;
  std::optional<uint64_t> ice_controlled;
  std::string_view software;
  bool fingerprint = true;
};

// Attributes in order: SOFTWARE, XOR-MAPPED-ADDRESS, MESSAGE-INTEGRITY, FINGERPRINT
// (the order of the RFC 5769 §2.2 sample).
Status build_binding_success(const BindingSuccess& response, std::vector<uint8_t>& out);

// Attributes in order: SOFTWARE, PRIORITY, USE-CANDIDATE, ICE-CONTROLLED/CONTROLLING,
// USERNAME, MESSAGE-INTEGRITY, FINGERPRINT (the order of the RFC 5769 §2.1 sample).
Status build_binding_request(const BindingRequest& request, std::vector<uint8_t>& out);

}  // namespace anchorcast::stun
