#include "relay/egress/flv/flv_framed_tag.hpp"

#include <algorithm>

#include "relay/protocol/flv/audio_tag.hpp"
#include "relay/protocol/flv/ex_video_tag.hpp"
#include "relay/protocol/flv/flv_tag.hpp"
#include "relay/protocol/flv/video_tag.hpp"

namespace anchorcast {

std::shared_ptr<const FramedTag> FramedTag::build(PacketPtr packet) {
  const bool is_video = packet->kind == MediaKind::video;
  std::array<uint8_t, flv::kExVideoPrefixMaxSize> prefix{};
  size_t prefix_size = 0;
  if (is_video && packet->codec == Codec::h264) {
    auto p = flv::video_tag_prefix(*packet);
    if (!p) return nullptr;
    std::copy(p->begin(), p->end(), prefix.begin());
    prefix_size = p->size();
  } else if (is_video && packet->codec == Codec::hevc) {
    auto p = flv::ex_video_tag_prefix(*packet);  // Enhanced RTMP: CodedFrames(X), 'hvc1'
    if (!p) return nullptr;
    std::copy(p->bytes().begin(), p->bytes().end(), prefix.begin());
    prefix_size = p->size;
  } else if (!is_video && packet->codec == Codec::aac) {
    auto p = flv::audio_tag_prefix(*packet);
    if (!p) return nullptr;
    std::copy(p->begin(), p->end(), prefix.begin());
    prefix_size = p->size();
  } else {
    return nullptr;
  }
  const size_t data_size = prefix_size + packet->bytes().size();
  if (data_size > flv::kMaxTagDataSize) return nullptr;  // cannot be framed (16 MiB); never seen in practice
  auto tag = std::make_shared<FramedTag>();
  flv::TagHeader header;
  header.type = is_video ? flv::TagType::video : flv::TagType::audio;
  header.data_size = static_cast<uint32_t>(data_size);
  header.timestamp_ms = static_cast<int32_t>(flv_timestamp_ms(*packet));
  auto head = flv::serialize_tag_header(header);
  std::copy(head.begin(), head.end(), tag->head.begin());
  std::copy(prefix.begin(), prefix.begin() + static_cast<std::ptrdiff_t>(prefix_size), tag->head.begin() + head.size());
  tag->head_size = head.size() + prefix_size;
  // E.3: PreviousTagSize = 11 + DataSize of the tag just written.
  tag->previous_tag_size = flv::serialize_previous_tag_size(static_cast<uint32_t>(flv::kTagHeaderSize + data_size));
  tag->packet = std::move(packet);
  return tag;
}

FramedTagPtr FramedTagCache::get(const PacketPtr& packet) {
  // Newest first. A slot holds its packet, so the address cannot be reused while cached.
  for (size_t i = 0; i < kSlots; ++i) {
    const FramedTagPtr& s = slots_[(newest_ + kSlots - i) % kSlots];
    if (!s) break;
    if (s->packet.get() == packet.get()) {
      ++hits_;
      return s;
    }
  }
  ++misses_;
  FramedTagPtr tag = FramedTag::build(packet);
  if (!tag) return nullptr;
  newest_ = (newest_ + 1) % kSlots;
  slots_[newest_] = tag;
  return tag;
}

}  // namespace anchorcast
