#include "overlay/control/merchant_auth.hpp"

#include <cctype>

#include "anchorcast/core/secret.hpp"

namespace anchorcast::control {

namespace {
bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}
}  // namespace

std::optional<std::string> bearer_token(std::string_view h) {
  while (!h.empty() && h.front() == ' ') h.remove_prefix(1);
  if (h.size() < 7 || !iequals(h.substr(0, 7), "bearer ")) return std::nullopt;
  h.remove_prefix(7);
  while (!h.empty() && h.front() == ' ') h.remove_prefix(1);
  while (!h.empty() && h.back() == ' ') h.remove_suffix(1);
  if (h.empty()) return std::nullopt;
  return std::string(h);
}

std::optional<std::string> merchant_token(const std::optional<std::string>& authorization,
                                          const std::optional<std::string>& query_token) {
  if (authorization) return bearer_token(*authorization);
  if (query_token && !query_token->empty()) return query_token;
  return std::nullopt;
}

bool token_listed(const std::vector<std::string>& tokens, std::string_view token) {
  bool found = false;
  for (const auto& t : tokens) found = constant_time_equals(t, token) | found;
  return found;
}

bool origin_allowed(const std::vector<std::string>& allowed, const std::optional<std::string>& origin) {
  // No Origin: not a browser (a script, a back office server), which cross-site
  // WebSocket hijacking cannot use; browsers always send it on a WebSocket handshake.
  if (allowed.empty() || !origin) return true;
  for (const auto& a : allowed)
    if (iequals(a, *origin)) return true;
  return false;
}

}  // namespace anchorcast::control
