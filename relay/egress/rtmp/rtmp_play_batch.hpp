// One scatter-gather write of RTMP play output: small messages (metadata, sequence
// headers) are copied into one owned buffer; media messages are referenced in their
// shared chunked form (FramedMessage: headers and payload built once for all players),
// never copied, and kept alive by the batch until the write completes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "anchorcast/media/packet.hpp"
#include "relay/egress/rtmp/rtmp_framed_message.hpp"
#include "relay/protocol/rtmp/chunk_writer.hpp"

namespace anchorcast {

class RtmpPlayBatch {
 public:
  // Copies a small message (metadata, sequence headers, control) into the batch.
  void add_message(const rtmp::ChunkWriter& writer, const rtmp::Message& message);
  // A message in its shared chunked form (referenced, kept alive until clear()).
  void add_framed(FramedMessagePtr message);

  bool empty() const { return refs_.empty(); }
  size_t size_bytes() const { return size_bytes_; }
  size_t packet_count() const { return framed_.size(); }
  // Calls fn(std::span<const uint8_t>) for the bytes to write, in order (no allocation:
  // this runs per write per viewer). Valid until the batch changes or is destroyed.
  template <class Fn>
  void for_each_span(Fn&& fn) const {
    for (const auto& r : refs_) fn(std::span<const uint8_t>((r.data ? r.data : owned_.data()) + r.offset, r.length));
  }
  void clear();

 private:
  struct Ref {
    const uint8_t* data;  // nullptr: bytes of owned_ at `offset`
    size_t offset;
    size_t length;
  };
  void add_owned(size_t offset, size_t length);

  std::vector<uint8_t> owned_;
  std::vector<Ref> refs_;
  std::vector<FramedMessagePtr> framed_;
  size_t size_bytes_ = 0;
};

}  // namespace anchorcast
