// libFuzzer: AMF0 decode on arbitrary bytes; whatever decodes must re-encode and decode
// to the same values (NaN aside).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "relay/protocol/rtmp/amf0.hpp"
#include "relay/protocol/rtmp/messages.hpp"

using namespace anchorcast::rtmp;

namespace {
bool has_nan(const Amf0Value& v) {
  if ((v.type == Amf0Type::number || v.type == Amf0Type::date) && std::isnan(v.number)) return true;
  for (const auto& p : v.properties)
    if (has_nan(p.value)) return true;
  for (const auto& e : v.elements)
    if (has_nan(e)) return true;
  return false;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Amf0Limits limits;
  limits.max_elements = 4096;
  auto values = decode_amf0(std::span(data, size), limits);
  if (values) {
    std::vector<uint8_t> bytes = encode_amf0(*values);
    auto again = decode_amf0(bytes, limits);
    if (!again) std::abort();
    bool nan = false;
    for (const auto& v : *values) nan |= has_nan(v);
    if (!nan && *again != *values) std::abort();
  }
  // The same bytes as a command and as a data message.
  Message m;
  m.payload.assign(data, data + size);
  m.type_id = msg::kCommandAmf0;
  (void)parse_command(m, limits);
  m.type_id = msg::kCommandAmf3;
  (void)parse_command(m, limits);
  m.type_id = msg::kDataAmf0;
  (void)parse_data(m, limits);
  m.type_id = msg::kUserControl;
  (void)parse_user_control(m);
  return 0;
}
