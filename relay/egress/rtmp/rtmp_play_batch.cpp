#include "relay/egress/rtmp/rtmp_play_batch.hpp"

namespace anchorcast {

void RtmpPlayBatch::add_owned(size_t offset, size_t length) {
  if (length == 0) return;
  size_bytes_ += length;
  // Consecutive owned bytes become one buffer: fewer iovecs for writev.
  if (!refs_.empty() && refs_.back().data == nullptr && refs_.back().offset + refs_.back().length == offset) {
    refs_.back().length += length;
    return;
  }
  refs_.push_back(Ref{nullptr, offset, length});
}

void RtmpPlayBatch::add_message(const rtmp::ChunkWriter& writer, const rtmp::Message& message) {
  size_t start = owned_.size();
  writer.append(message, owned_);
  add_owned(start, owned_.size() - start);
}

void RtmpPlayBatch::add_media(const rtmp::ChunkWriter& writer, const rtmp::ChunkHeaderFields& fields,
                              std::span<const uint8_t> prefix, PacketPtr packet) {
  // The prefix goes into the owned buffer first; framing then refers to it by offset.
  size_t prefix_at = owned_.size();
  owned_.insert(owned_.end(), prefix.begin(), prefix.end());
  std::span<const uint8_t> parts[2] = {prefix, packet->bytes()};
  pieces_.clear();
  writer.frame(fields, parts, owned_, pieces_);
  for (const auto& piece : pieces_) {
    if (piece.part == rtmp::ChunkPiece::kHeader) {
      add_owned(piece.offset, piece.length);
    } else if (piece.part == 0) {
      add_owned(prefix_at + piece.offset, piece.length);
    } else {
      refs_.push_back(Ref{packet->payload.data(), piece.offset, piece.length});
      size_bytes_ += piece.length;
    }
  }
  packets_.push_back(std::move(packet));
}

std::vector<std::span<const uint8_t>> RtmpPlayBatch::spans() const {
  std::vector<std::span<const uint8_t>> out;
  out.reserve(refs_.size());
  for (const auto& r : refs_) {
    const uint8_t* base = r.data ? r.data : owned_.data();
    out.emplace_back(base + r.offset, r.length);
  }
  return out;
}

void RtmpPlayBatch::clear() {
  owned_.clear();
  refs_.clear();
  packets_.clear();
  size_bytes_ = 0;
}

}  // namespace anchorcast
