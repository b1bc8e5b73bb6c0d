// libFuzzer target: ID3v2 tags (protocol/id3), as a TS timed metadata stream delivers them.
// Invariants checked: frames lie inside the tag and the input; a TXXX we build parses
// back to what went in.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string_view>

#include "relay/protocol/id3/id3_tag.hpp"

using namespace anchorcast::id3;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> in(data, size);
  if (auto tag = parse_tag(in); tag.ok()) {
    if (tag->size > in.size()) std::abort();
    for (const auto& frame : tag->frames) {
      if (frame.body.data() < in.data() || frame.body.data() + frame.body.size() > in.data() + tag->size) std::abort();
      if (frame.id == "TXXX") (void)parse_txxx(frame.body);
    }
  }
  (void)parse_txxx(in);
  // Round trip: the input split at its first NUL as description and value.
  std::string_view text(reinterpret_cast<const char*>(data), size);
  const size_t nul = text.find('\0');
  const std::string_view description = text.substr(0, nul == std::string_view::npos ? 0 : nul);
  const std::string_view value = nul == std::string_view::npos ? text : text.substr(nul + 1);
  if (auto built = build_txxx_tag(description, value); built.ok()) {
    auto tag = parse_tag(*built);
    if (!tag.ok() || tag->frames.size() != 1 || tag->size != built->size()) std::abort();
    auto txxx = parse_txxx(tag->frames[0].body);
    if (!txxx.ok() || txxx->description != description) std::abort();
    // A value's one trailing NUL reads as a terminator (v2.4 §4.2); otherwise exact.
    std::string_view expected = value;
    if (!expected.empty() && expected.back() == '\0') expected.remove_suffix(1);
    if (txxx->value != expected) std::abort();
  }
  return 0;
}
