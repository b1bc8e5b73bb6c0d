#include "relay/protocol/rtmp/handshake.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cstring>
#include <optional>

namespace anchorcast::rtmp {

namespace {

// "Genuine Adobe Flash Player 001" + 32 constant bytes (librtmp's GenuineFPKey).
constexpr uint8_t kFpKey[62] = {
    'G', 'e', 'n', 'u', 'i', 'n', 'e', ' ', 'A', 'd', 'o', 'b', 'e', ' ', 'F', 'l', 'a', 's', 'h', ' ', 'P',
    'l', 'a', 'y', 'e', 'r', ' ', '0', '0', '1', 0xF0, 0xEE, 0xC2, 0x4A, 0x80, 0x68, 0xBE, 0xE8, 0x2E, 0x00,
    0xD0, 0xD1, 0x02, 0x9E, 0x7E, 0x57, 0x6E, 0xEC, 0x5D, 0x2D, 0x29, 0x80, 0x6F, 0xAB, 0x93, 0xB8, 0xE6,
    0x36, 0xCF, 0xEB, 0x31, 0xAE};

// "Genuine Adobe Flash Media Server 001" + the same 32 bytes (librtmp's GenuineFMSKey).
constexpr uint8_t kFmsKey[68] = {
    'G', 'e', 'n', 'u', 'i', 'n', 'e', ' ', 'A', 'd', 'o', 'b', 'e', ' ', 'F', 'l', 'a', 's', 'h', ' ',
    'M', 'e', 'd', 'i', 'a', ' ', 'S', 'e', 'r', 'v', 'e', 'r', ' ', '0', '0', '1', 0xF0, 0xEE, 0xC2, 0x4A,
    0x80, 0x68, 0xBE, 0xE8, 0x2E, 0x00, 0xD0, 0xD1, 0x02, 0x9E, 0x7E, 0x57, 0x6E, 0xEC, 0x5D, 0x2D, 0x29,
    0x80, 0x6F, 0xAB, 0x93, 0xB8, 0xE6, 0x36, 0xCF, 0xEB, 0x31, 0xAE};

// S1's version field in the digest form; any non-zero value tells the client to look
// for a digest (ffmpeg checks only when byte 4 >= 3). This is what FMS 4.5 sends.
constexpr uint8_t kServerVersion[4] = {0x04, 0x05, 0x00, 0x01};

// Handshake randomness only has to differ between connections, not be secret: the
// digest scheme is public. splitmix64 keeps the parser free of globals and clocks.
void fill_random(uint8_t* p, size_t n, uint64_t& state) {
  for (size_t i = 0; i < n; i += 8) {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    for (size_t k = 0; k < 8 && i + k < n; ++k) p[i + k] = static_cast<uint8_t>(z >> (8 * k));
  }
}

void put_be32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

}  // namespace

std::span<const uint8_t> genuine_fp_key() { return kFpKey; }
std::span<const uint8_t> genuine_fms_key() { return kFmsKey; }

Digest hmac_sha256(std::span<const uint8_t> key, std::span<const uint8_t> data) {
  Digest out{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), data.data(), data.size(), out.data(), &len);
  return out;
}

size_t digest_offset(HandshakeBlock block, DigestScheme scheme) {
  size_t base = scheme == DigestScheme::key_first ? 772 : 8;
  size_t sum = size_t{block[base]} + block[base + 1] + block[base + 2] + block[base + 3];
  // 728 = 764 - 4 (the offset bytes) - 32 (the digest): the digest stays in its half.
  return sum % 728 + base + 4;
}

Digest block_digest(HandshakeBlock block, size_t offset, std::span<const uint8_t> key) {
  std::array<uint8_t, kHandshakeSize - kDigestSize> joined;
  std::memcpy(joined.data(), block.data(), offset);
  std::memcpy(joined.data() + offset, block.data() + offset + kDigestSize, kHandshakeSize - offset - kDigestSize);
  return hmac_sha256(key, joined);
}

bool has_valid_digest(HandshakeBlock block, DigestScheme scheme, std::span<const uint8_t> key) {
  size_t offset = digest_offset(block, scheme);
  Digest d = block_digest(block, offset, key);
  return std::equal(d.begin(), d.end(), block.begin() + static_cast<std::ptrdiff_t>(offset));
}

void write_digest(std::span<uint8_t, kHandshakeSize> block, DigestScheme scheme, std::span<const uint8_t> key) {
  size_t offset = digest_offset(block, scheme);
  Digest d = block_digest(block, offset, key);
  std::copy(d.begin(), d.end(), block.begin() + static_cast<std::ptrdiff_t>(offset));
}

Digest response_digest(std::span<const uint8_t> full_key, const Digest& peer_digest,
                       std::span<const uint8_t> first_1504) {
  Digest temp = hmac_sha256(full_key, peer_digest);
  return hmac_sha256(temp, first_1504);
}

ServerHandshake::ServerHandshake(uint64_t seed, uint32_t epoch_ms) : seed_(seed), epoch_ms_(epoch_ms) {}

Result<size_t> ServerHandshake::consume(std::span<const uint8_t> in, std::vector<uint8_t>& out) {
  size_t used = 0;
  if (stage_ == Stage::c0c1) {
    if (c0c1_.empty() && !in.empty() && in[0] != kRtmpVersion) {
      // 5.2.2: 3 is the only version; 6 would be RTMPE, 0x16 a TLS client (rtmps://),
      // 'G'/'P' someone speaking HTTP to the RTMP port.
      return make_error("rtmp handshake: client version " + std::to_string(in[0]) + ", expected 3" +
                        (in[0] == 6 || in[0] == 8 ? " (RTMPE is not supported)"
                         : in[0] == 0x16          ? " (TLS/rtmps is not supported)"
                         : in[0] == 'G' || in[0] == 'P' || in[0] == 'H' || in[0] == 'O'
                             ? " (an HTTP request on the RTMP port?)"
                             : ""));
    }
    size_t take = std::min(in.size(), 1 + kHandshakeSize - c0c1_.size());
    c0c1_.insert(c0c1_.end(), in.begin(), in.begin() + static_cast<std::ptrdiff_t>(take));
    used += take;
    if (c0c1_.size() < 1 + kHandshakeSize) return used;
    respond(out);
    stage_ = Stage::c2;
  }
  if (stage_ == Stage::c2) {
    // C2 should echo S1 (5.2.3), but in the digest form it is a digest of it and many
    // encoders send anything: nothing is gained by checking it.
    size_t take = std::min(in.size() - used, kHandshakeSize - c2_have_);
    c2_have_ += take;
    used += take;
    if (c2_have_ == kHandshakeSize) {
      stage_ = Stage::done;
      c0c1_ = {};
    }
  }
  return used;
}

void ServerHandshake::respond(std::vector<uint8_t>& out) {
  std::span<const uint8_t, kHandshakeSize> c1(c0c1_.data() + 1, kHandshakeSize);
  size_t start = out.size();
  out.resize(start + 1 + 2 * kHandshakeSize);
  uint8_t* s0 = out.data() + start;
  std::span<uint8_t, kHandshakeSize> s1(s0 + 1, kHandshakeSize);
  std::span<uint8_t, kHandshakeSize> s2(s0 + 1 + kHandshakeSize, kHandshakeSize);
  s0[0] = kRtmpVersion;

  // A zero version field in C1 means the plain handshake (5.2.3: "zero"); otherwise the
  // client may have signed C1. Try both layouts, like nginx-rtmp and SRS.
  bool signed_c1 = c1[4] | c1[5] | c1[6] | c1[7];
  auto fp_key = genuine_fp_key().first(kFpKeyTextSize);
  std::optional<DigestScheme> scheme;
  if (signed_c1) {
    for (auto s : {DigestScheme::key_first, DigestScheme::digest_first}) {
      if (has_valid_digest(c1, s, fp_key)) {
        scheme = s;
        break;
      }
    }
  }

  put_be32(s1.data(), epoch_ms_);
  fill_random(s1.data() + 8, kHandshakeSize - 8, seed_);
  if (!scheme) {
    // Plain form (5.2.3/5.2.4): S1 version zero, S2 echoes C1.
    std::fill_n(s1.data() + 4, 4, 0);
    std::copy(c1.begin(), c1.end(), s2.begin());
    return;
  }
  used_digest_ = true;
  std::copy(std::begin(kServerVersion), std::end(kServerVersion), s1.data() + 4);
  // The client checks S1 in the same layout it used for C1.
  write_digest(s1, *scheme, genuine_fms_key().first(kFmsKeyTextSize));

  Digest c1_digest;
  size_t c1_offset = digest_offset(c1, *scheme);
  std::copy_n(c1.begin() + static_cast<std::ptrdiff_t>(c1_offset), kDigestSize, c1_digest.begin());
  fill_random(s2.data(), kHandshakeSize - kDigestSize, seed_);
  Digest sig = response_digest(genuine_fms_key(), c1_digest, s2.first(kHandshakeSize - kDigestSize));
  std::copy(sig.begin(), sig.end(), s2.begin() + (kHandshakeSize - kDigestSize));
}

ClientHandshake::ClientHandshake(uint64_t seed) : seed_(seed) {}

std::vector<uint8_t> ClientHandshake::start() {
  std::vector<uint8_t> out(1 + kHandshakeSize, 0);
  out[0] = kRtmpVersion;
  // time 0, version field zero (the plain form), random fill.
  fill_random(out.data() + 9, kHandshakeSize - 8, seed_);
  return out;
}

Result<size_t> ClientHandshake::consume(std::span<const uint8_t> in, std::vector<uint8_t>& out) {
  if (done_) return size_t{0};
  if (s0s1s2_.empty() && !in.empty() && in[0] != kRtmpVersion)
    return make_error("rtmp handshake: server version " + std::to_string(in[0]) + ", expected 3");
  size_t take = std::min(in.size(), 1 + 2 * kHandshakeSize - s0s1s2_.size());
  s0s1s2_.insert(s0s1s2_.end(), in.begin(), in.begin() + static_cast<std::ptrdiff_t>(take));
  if (s0s1s2_.size() == 1 + 2 * kHandshakeSize) {
    out.insert(out.end(), s0s1s2_.begin() + 1, s0s1s2_.begin() + 1 + kHandshakeSize);  // C2 = S1
    s0s1s2_ = {};
    done_ = true;
  }
  return take;
}

}  // namespace anchorcast::rtmp
