// libFuzzer target: SCTP packet framing (RFC 9260 §3). The fuzzer rarely guesses a
// CRC32c, so each input is checked twice: as sent, and with its checksum fixed, which
// exercises the chunk walk. Invariant: an accepted packet has at least one chunk.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "relay/protocol/sctp/sctp_packet.hpp"

using namespace anchorcast::sctp;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)check_packet(std::span<const uint8_t>(data, size));
  std::vector<uint8_t> fixed(data, data + size);
  write_checksum(fixed);
  auto s = check_packet(fixed);
  if (s.ok() && s->chunks == 0) std::abort();
  return 0;
}
