#include "relay/egress/rtmp/rtmp_play_batch.hpp"

#include "relay/egress/clear_and_trim.hpp"

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

void RtmpPlayBatch::add_framed(FramedMessagePtr message) {
  for (const auto& r : message->refs)
    refs_.push_back(Ref{r.payload ? message->packet->bytes().data() : message->owned.data(), r.offset, r.length});
  size_bytes_ += message->size_bytes;
  framed_.push_back(std::move(message));
}

void RtmpPlayBatch::clear() {
  // Sized for a few messages per write; a join's GOP replay gives its memory back.
  clear_and_trim(owned_, 1024);
  clear_and_trim(refs_, 32);
  clear_and_trim(framed_, 16);
  size_bytes_ = 0;
}

}  // namespace anchorcast
