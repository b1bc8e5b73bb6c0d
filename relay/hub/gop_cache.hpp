// The packets since the latest video keyframe, so a new viewer starts decoding at once.
// Bounded: a GOP larger than the limits is dropped and the cache waits for the next one.
#pragma once

#include <cstddef>
#include <vector>

#include "anchorcast/media/packet.hpp"

namespace anchorcast {

class GopCache {
 public:
  GopCache(size_t max_packets = 4096, size_t max_bytes = 32u << 20)
      : max_packets_(max_packets), max_bytes_(max_bytes) {}

  void add(const PacketPtr& packet);
  void clear();
  const std::vector<PacketPtr>& packets() const { return packets_; }
  size_t bytes() const { return bytes_; }

 private:
  size_t max_packets_;
  size_t max_bytes_;
  std::vector<PacketPtr> packets_;
  size_t bytes_ = 0;
  bool in_gop_ = false;
};

}  // namespace anchorcast
