// The RTMP handshake (Adobe RTMP spec 1.0, section 5.2): C0/C1/C2 and S0/S1/S2.
// Besides the plain form of the spec, servers must speak the digest ("complex") form
// that Flash Player and several encoders use: C1 carries an HMAC-SHA256 digest keyed
// with the "Genuine Adobe Flash Player 001" key, and S1/S2 must carry digests made with
// the "Genuine Adobe Flash Media Server 001" key or the client refuses the server
// (ffmpeg checks them when playing). Not in the published spec; the layout below is
// the one librtmp, ffmpeg, nginx-rtmp and SRS agree on.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "anchorcast/core/result.hpp"

namespace anchorcast::rtmp {

inline constexpr size_t kHandshakeSize = 1536;  // C1, C2, S1, S2 (5.2.3, 5.2.4)
inline constexpr uint8_t kRtmpVersion = 3;      // C0/S0 (5.2.2)
inline constexpr size_t kDigestSize = 32;

// Where the 32-byte digest sits in a 1536-byte C1/S1 block. After time(4) and
// version(4) come two 764-byte halves, a key block and a digest block, in either order;
// the digest's position inside its half is the sum of the half's first 4 bytes mod 728.
enum class DigestScheme : uint8_t {
  key_first = 0,     // scheme 0: digest half at 772, offset = sum(772..775) % 728 + 776
  digest_first = 1,  // scheme 1: digest half at 8,   offset = sum(8..11) % 728 + 12
};

using HandshakeBlock = std::span<const uint8_t, kHandshakeSize>;
using Digest = std::array<uint8_t, kDigestSize>;

std::span<const uint8_t> genuine_fp_key();   // 62 bytes; C1 digests use the first 30
std::span<const uint8_t> genuine_fms_key();  // 68 bytes; S1 digests use the first 36
inline constexpr size_t kFpKeyTextSize = 30;
inline constexpr size_t kFmsKeyTextSize = 36;

Digest hmac_sha256(std::span<const uint8_t> key, std::span<const uint8_t> data);
size_t digest_offset(HandshakeBlock block, DigestScheme scheme);
// HMAC over the block without the 32 digest bytes at `offset`.
Digest block_digest(HandshakeBlock block, size_t offset, std::span<const uint8_t> key);
bool has_valid_digest(HandshakeBlock block, DigestScheme scheme, std::span<const uint8_t> key);
void write_digest(std::span<uint8_t, kHandshakeSize> block, DigestScheme scheme, std::span<const uint8_t> key);
// The last 32 bytes of S2 (or C2) answering a peer digest: HMAC keyed with
// HMAC(full_key, peer_digest), over the first 1504 bytes.
Digest response_digest(std::span<const uint8_t> full_key, const Digest& peer_digest,
                       std::span<const uint8_t> first_1504);

class ServerHandshake {
 public:
  // `seed` varies S1's random bytes; `epoch_ms` is S1's time field (5.2.3).
  explicit ServerHandshake(uint64_t seed = 0, uint32_t epoch_ms = 0);

  // Consumes handshake bytes from the front of `in` and returns how many it took; the
  // rest (if done) is the chunk stream. Appends S0+S1+S2 to `out` once C0+C1 arrived.
  Result<size_t> consume(std::span<const uint8_t> in, std::vector<uint8_t>& out);
  bool done() const { return stage_ == Stage::done; }
  bool used_digest() const { return used_digest_; }  // the client sent a valid C1 digest

 private:
  enum class Stage { c0c1, c2, done };
  void respond(std::vector<uint8_t>& out);

  Stage stage_ = Stage::c0c1;
  uint64_t seed_;
  uint32_t epoch_ms_;
  std::vector<uint8_t> c0c1_;
  size_t c2_have_ = 0;
  bool used_digest_ = false;
};

// A plain client (5.2.5): start() gives C0+C1; after S0+S1+S2 it answers C2 (S1 echoed).
// The server's digests are not checked: this client is for tests and the load generator.
class ClientHandshake {
 public:
  explicit ClientHandshake(uint64_t seed = 0);
  std::vector<uint8_t> start();
  Result<size_t> consume(std::span<const uint8_t> in, std::vector<uint8_t>& out);
  bool done() const { return done_; }

 private:
  uint64_t seed_;
  std::vector<uint8_t> s0s1s2_;
  bool done_ = false;
};

}  // namespace anchorcast::rtmp
