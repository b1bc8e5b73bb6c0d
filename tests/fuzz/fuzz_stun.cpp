// libFuzzer target: STUN parsing and MESSAGE-INTEGRITY checking. Invariants: a parsed
// message's views stay inside the input; a Binding success built for a parsed request
// parses back with a valid MESSAGE-INTEGRITY and FINGERPRINT.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "relay/protocol/stun/stun_builder.hpp"
#include "relay/protocol/stun/stun_message.hpp"

using namespace anchorcast::stun;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> in(data, size);
  (void)looks_like_stun(in);
  auto m = parse_stun(in);
  if (!m.ok()) return 0;
  auto inside = [&](std::string_view v) {
    return reinterpret_cast<const uint8_t*>(v.data()) >= data &&
           reinterpret_cast<const uint8_t*>(v.data()) + v.size() <= data + size;
  };
  if (m->username && !inside(*m->username)) std::abort();
  if (m->software && !inside(*m->software)) std::abort();
  (void)verify_message_integrity(in, *m, "fuzz-password-0123456789");

  TransportAddress mapped = m->xor_mapped_address.value_or(TransportAddress{});
  std::vector<uint8_t> out;
  if (!build_binding_success({.transaction_id = m->transaction_id, .mapped = mapped, .integrity_key = "pw"}, out))
    std::abort();
  auto back = parse_stun(out);
  if (!back.ok() || !back->has_fingerprint || !verify_message_integrity(out, *back, "pw") ||
      back->transaction_id != m->transaction_id || back->xor_mapped_address != mapped)
    std::abort();
  return 0;
}
