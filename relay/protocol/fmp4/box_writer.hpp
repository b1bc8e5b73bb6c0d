// ISO BMFF boxes (ISO/IEC 14496-12 §4.2) appended to a byte vector. A box is opened with
// a placeholder size and closed once its payload is written, so nested boxes need no size
// worked out ahead; `Box` closes itself at the end of its scope.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "relay/protocol/bits/byte_order.hpp"
#include "relay/protocol/bits/byte_writer.hpp"

namespace anchorcast::fmp4 {

class BoxWriter {
 public:
  explicit BoxWriter(std::vector<uint8_t>& out) : out_(out) {}

  // Appends the box header with a zero size; returns where the box starts, for close().
  size_t open(std::string_view type) {
    const size_t start = out_.size();
    u32(0);
    fourcc(type);
    return start;
  }
  // §4.2.2 FullBox: the header, then version (8 bits) and flags (24 bits).
  size_t open_full(std::string_view type, uint8_t version, uint32_t flags) {
    const size_t start = open(type);
    u8(version);
    u24(flags);
    return start;
  }
  // The box's 32-bit size is everything appended since open(); callers keep boxes under
  // 4 GiB (a media segment checks its mdat first).
  void close(size_t start) { bits::store_be32(out_.data() + start, static_cast<uint32_t>(out_.size() - start)); }

  void u8(uint8_t v) { out_.push_back(v); }
  void u16(uint16_t v) { bits::append_be16(out_, v); }
  void u24(uint32_t v) { bits::append_be24(out_, v); }
  void u32(uint32_t v) { bits::append_be32(out_, v); }
  void u64(uint64_t v) {
    u32(static_cast<uint32_t>(v >> 32));
    u32(static_cast<uint32_t>(v));
  }
  void fourcc(std::string_view code) {
    for (size_t i = 0; i < 4; ++i) out_.push_back(i < code.size() ? static_cast<uint8_t>(code[i]) : ' ');
  }
  void bytes(std::span<const uint8_t> b) { out_.insert(out_.end(), b.begin(), b.end()); }
  void zeros(size_t n) { out_.insert(out_.end(), n, 0); }
  // §4.2 "string": UTF-8, NUL-terminated.
  void string(std::string_view s) {
    out_.insert(out_.end(), s.begin(), s.end());
    out_.push_back(0);
  }
  size_t size() const { return out_.size(); }
  std::vector<uint8_t>& out() { return out_; }

 private:
  std::vector<uint8_t>& out_;
};

// A box for the length of a scope.
class Box {
 public:
  Box(BoxWriter& w, std::string_view type) : w_(w), start_(w.open(type)) {}
  Box(BoxWriter& w, std::string_view type, uint8_t version, uint32_t flags)
      : w_(w), start_(w.open_full(type, version, flags)) {}
  ~Box() { w_.close(start_); }
  Box(const Box&) = delete;
  Box& operator=(const Box&) = delete;

 private:
  BoxWriter& w_;
  size_t start_;
};

}  // namespace anchorcast::fmp4
