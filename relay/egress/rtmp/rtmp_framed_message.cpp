#include "relay/egress/rtmp/rtmp_framed_message.hpp"

namespace anchorcast {

std::shared_ptr<const FramedMessage> FramedMessage::build(const rtmp::ChunkWriter& writer,
                                                          const rtmp::ChunkHeaderFields& fields,
                                                          std::span<const uint8_t> prefix, PacketPtr packet) {
  auto m = std::make_shared<FramedMessage>();
  m->owned.assign(prefix.begin(), prefix.end());
  std::span<const uint8_t> parts[2] = {prefix, packet->bytes()};
  std::vector<rtmp::ChunkPiece> pieces;
  pieces.reserve(8);
  writer.frame(fields, parts, m->owned, pieces);
  m->refs.reserve(pieces.size());
  for (const auto& piece : pieces) {
    // Headers and the prefix (part 0, copied to owned[0]) are bytes of `owned`.
    m->refs.push_back({piece.part == 1, piece.offset, piece.length});
    m->size_bytes += piece.length;
  }
  m->packet = std::move(packet);
  return m;
}

FramedMessagePtr FramedMessageCache::get(const rtmp::ChunkWriter& writer, const rtmp::ChunkHeaderFields& fields,
                                         std::span<const uint8_t> prefix, const PacketPtr& packet) {
  // Newest first. The slot holds the packet, so its address cannot be reused while cached.
  for (size_t i = 0; i < kSlots; ++i) {
    const Slot& s = slots_[(newest_ + kSlots - i) % kSlots];
    if (!s.framed) break;
    if (s.packet == packet.get() && s.chunk_size == writer.chunk_size() && s.stream_id == fields.stream_id &&
        s.csid == fields.csid) {
      ++hits_;
      return s.framed;
    }
  }
  ++misses_;
  newest_ = (newest_ + 1) % kSlots;
  Slot& s = slots_[newest_];
  s = Slot{packet.get(), writer.chunk_size(), fields.stream_id, fields.csid,
           FramedMessage::build(writer, fields, prefix, packet)};
  return s.framed;
}

}  // namespace anchorcast
