// MSB-first bit reader over a bounded byte span, with H.264 exp-Golomb codes (§9.1).
// Reading past the end yields zeros and sets a sticky flag, so a parser reads a whole
// structure and checks once (the idea of FFmpeg's GetBitContext), and never reads out
// of bounds whatever the input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace anchorcast::bits {

class BitReader {
 public:
  explicit BitReader(std::span<const uint8_t> bytes) : bytes_(bytes) {}

  // n in [0, 32].
  uint32_t read_bits(int n) {
    uint32_t value = 0;
    for (int i = 0; i < n; ++i) value = (value << 1) | read_bit();
    return value;
  }
  bool read_flag() { return read_bit() != 0; }
  void skip_bits(size_t n) {
    if (n > bits_left()) {
      pos_ = bytes_.size() * 8;
      failed_ = true;
      return;
    }
    pos_ += n;
  }

  // ue(v), §9.1. A code with 32 or more leading zeros cannot hold a 32-bit value:
  // it is treated as corrupt input (sets the failure flag and returns 0).
  uint32_t read_ue() {
    int leading_zeros = 0;
    while (read_bit() == 0) {
      if (failed_ || ++leading_zeros > 31) {
        failed_ = true;
        return 0;
      }
    }
    uint64_t value = (uint64_t{1} << leading_zeros) - 1 + read_bits(leading_zeros);
    return static_cast<uint32_t>(value);
  }
  // se(v), §9.1.1: k maps to (-1)^(k+1) * ceil(k / 2).
  int32_t read_se() {
    int64_t k = read_ue();
    int64_t magnitude = (k + 1) / 2;
    return static_cast<int32_t>(k % 2 == 1 ? magnitude : -magnitude);
  }

  size_t bits_left() const { return bytes_.size() * 8 - pos_; }
  size_t bit_position() const { return pos_; }
  // True once any read ran past the end or met a corrupt code.
  bool failed() const { return failed_; }

 private:
  uint32_t read_bit() {
    if (pos_ >= bytes_.size() * 8) {
      failed_ = true;
      return 0;
    }
    uint32_t bit = (bytes_[pos_ / 8] >> (7 - pos_ % 8)) & 1u;
    ++pos_;
    return bit;
  }

  std::span<const uint8_t> bytes_;
  size_t pos_ = 0;
  bool failed_ = false;
};

}  // namespace anchorcast::bits
