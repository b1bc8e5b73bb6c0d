// libFuzzer target: DCEP parsing (RFC 8832). Invariants: a parsed OPEN's label and
// protocol stay inside the input and it serializes back to the same bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "relay/protocol/dcep/dcep_message.hpp"

using namespace anchorcast::dcep;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> in(data, size);
  (void)message_type(in);
  (void)parse_ack(in);
  auto m = parse_open(in);
  if (!m.ok()) return 0;
  auto inside = [&](std::string_view v) {
    return v.empty() || (reinterpret_cast<const uint8_t*>(v.data()) >= data &&
                         reinterpret_cast<const uint8_t*>(v.data()) + v.size() <= data + size);
  };
  if (!inside(m->label) || !inside(m->protocol)) std::abort();
  std::vector<uint8_t> out;
  append_open(*m, out);
  if (out.size() != size || !std::equal(out.begin(), out.end(), data)) std::abort();
  return 0;
}
