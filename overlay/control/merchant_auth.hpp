// Who may open /control/{id}: a merchant token listed by that stream, given as
// `Authorization: Bearer TOKEN` or `?token=TOKEN` (browsers cannot set headers on a
// WebSocket), from an allowed Origin when the config lists origins.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace anchorcast::control {

// The token of "Bearer TOKEN" (scheme case-insensitive, RFC 7235 2.1), else nullopt.
std::optional<std::string> bearer_token(std::string_view authorization);

// The header wins over the query parameter when both are given.
std::optional<std::string> merchant_token(const std::optional<std::string>& authorization,
                                          const std::optional<std::string>& query_token);

// Compares against every listed token in constant time (no early exit), so timing tells
// neither which token matched nor whether any did.
bool token_listed(const std::vector<std::string>& tokens, std::string_view token);

// No configured origins: any Origin is accepted. Otherwise a request that carries an
// Origin (every browser does) must name one of them (scheme://host[:port], ASCII
// case-insensitive); a request without one (a script, not a browser) is accepted.
bool origin_allowed(const std::vector<std::string>& allowed, const std::optional<std::string>& origin);

}  // namespace anchorcast::control
