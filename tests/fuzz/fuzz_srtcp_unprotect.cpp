// SRTCP from a viewer is the first thing the server does with an RTCP datagram: any
// bytes must be refused or opened, never read out of bounds. Byte 0 picks the profile;
// the rest is tried as a sealed packet, then sealed and opened again (a round trip
// must give the plaintext back).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "relay/egress/webrtc/srtcp_cipher.hpp"

using namespace anchorcast::webrtc;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const SrtpProfile profile = data[0] & 1 ? SrtpProfile::aead_aes_128_gcm : SrtpProfile::aes128_cm_sha1_80;
  std::vector<uint8_t> key(srtp_key_length(profile) + srtp_salt_length(profile), 0x5A);
  auto receiver = SrtcpCipher::create(profile, key);
  auto sender = SrtcpCipher::create(profile, key);
  if (!receiver || !sender) std::abort();
  std::vector<uint8_t> packet(data + 1, data + size);
  (void)receiver->unprotect(packet);

  std::vector<uint8_t> plain(data + 1, data + size);
  auto sealed = sender->protect(plain);
  if (!sealed) return 0;
  std::vector<uint8_t> copy(sealed->begin(), sealed->end());
  auto fresh = SrtcpCipher::create(profile, key);
  auto opened = fresh->unprotect(copy);
  if (!opened || opened->size() != plain.size() || std::memcmp(opened->data(), plain.data(), plain.size()) != 0)
    std::abort();
  return 0;
}
