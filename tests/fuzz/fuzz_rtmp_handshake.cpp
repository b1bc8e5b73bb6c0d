// libFuzzer: the server handshake on arbitrary C0/C1/C2 bytes, fed in pieces. It must
// answer exactly once with 1 + 2 * 1536 bytes, never take more than C0+C1+C2, and hand
// back every byte after C2 to the chunk stream.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "relay/protocol/rtmp/handshake.hpp"

using namespace anchorcast::rtmp;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  size_t step = 1 + data[0] * 13;
  std::span<const uint8_t> in(data + 1, size - 1);
  ServerHandshake hs(1, 2);
  std::vector<uint8_t> out;
  size_t used_total = 0;
  for (size_t i = 0; i < in.size(); i += step) {
    auto chunk = in.subspan(i, std::min(step, in.size() - i));
    auto used = hs.consume(chunk, out);
    if (!used) {
      if (in[0] == kRtmpVersion) std::abort();  // only the version byte is ever refused
      return 0;
    }
    if (*used > chunk.size()) std::abort();
    used_total += *used;
    if (*used < chunk.size() && !hs.done()) std::abort();
    if (hs.done()) break;
  }
  size_t full = 1 + 2 * kHandshakeSize;
  if (used_total >= 1 + kHandshakeSize && out.size() != 1 + 2 * kHandshakeSize) std::abort();
  if (used_total < 1 + kHandshakeSize && !out.empty()) std::abort();
  if (hs.done() != (used_total == full)) std::abort();
  if (!out.empty() && out[0] != kRtmpVersion) std::abort();
  // A C1 built with a valid digest must be answered in the digest form.
  if (in.size() >= 1 + kHandshakeSize && in[0] == kRtmpVersion) {
    std::vector<uint8_t> c1(in.begin() + 1, in.begin() + 1 + kHandshakeSize);
    c1[4] |= 1;  // non-zero version: the digest form
    write_digest(std::span<uint8_t, kHandshakeSize>(c1.data(), kHandshakeSize), DigestScheme::digest_first,
                 genuine_fp_key().first(kFpKeyTextSize));
    std::vector<uint8_t> c0c1 = {kRtmpVersion};
    c0c1.insert(c0c1.end(), c1.begin(), c1.end());
    ServerHandshake signed_hs(3, 4);
    std::vector<uint8_t> reply;
    if (!signed_hs.consume(c0c1, reply) || !signed_hs.used_digest()) std::abort();
    if (!has_valid_digest(HandshakeBlock(reply.data() + 1, kHandshakeSize),
                          signed_hs.used_digest() ? DigestScheme::digest_first : DigestScheme::key_first,
                          genuine_fms_key().first(kFmsKeyTextSize))) {
      // A C1 can carry valid digests in both layouts; the server answers in the first
      // one it finds (key_first), so check that one too.
      if (!has_valid_digest(HandshakeBlock(reply.data() + 1, kHandshakeSize), DigestScheme::key_first,
                            genuine_fms_key().first(kFmsKeyTextSize)))
        std::abort();
    }
  }
  return 0;
}
