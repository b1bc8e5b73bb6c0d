#include "relay/protocol/h264/nal_unit.hpp"

namespace anchorcast::h264 {

std::vector<uint8_t> nal_to_rbsp(std::span<const uint8_t> nal) {
  std::vector<uint8_t> out;
  out.reserve(nal.size());
  int zeros = 0;
  for (uint8_t b : nal) {
    // §7.4.1: 0x000003 inside a NAL unit is 0x0000 plus an escape byte to drop.
    if (zeros >= 2 && b == 0x03) {
      zeros = 0;
      continue;
    }
    out.push_back(b);
    zeros = b == 0 ? zeros + 1 : 0;
  }
  return out;
}

}  // namespace anchorcast::h264
