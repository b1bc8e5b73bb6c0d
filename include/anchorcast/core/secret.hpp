// Secrets (publish keys, tokens): compared in constant time, never logged in full.
#pragma once

#include <string>
#include <string_view>

namespace anchorcast {

// Time depends only on the lengths, never on where the inputs differ.
bool constant_time_equals(std::string_view a, std::string_view b);

// "de…y (8 chars)": enough for an operator to tell keys apart, useless to an attacker.
std::string redact(std::string_view secret);

}  // namespace anchorcast
