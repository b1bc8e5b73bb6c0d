// libFuzzer target: FLV file header, tag walking, and video/audio tag bodies.
// Invariant checked: whatever parses re-serializes to the same bytes.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "relay/protocol/flv/audio_tag.hpp"
#include "relay/protocol/flv/flv_header.hpp"
#include "relay/protocol/flv/flv_tag.hpp"
#include "relay/protocol/flv/video_tag.hpp"

using namespace anchorcast::flv;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> in(data, size);
  (void)parse_file_header(in);
  // The bodies on their own, as RTMP messages carry them.
  if (auto v = parse_video_tag_body(in); v.ok() && v->is_avc()) {
    auto prefix = serialize_avc_video_prefix(v->frame_type, v->avc_packet_type, v->composition_time_ms);
    if (!std::equal(prefix.begin(), prefix.end(), in.begin())) std::abort();
    if (v->avc_packet_type == AvcPacketType::nalu) {
      auto p = video_packet_from_tag(*v, 0);
      if (!p.ok() || p->bytes().size() != v->data.size()) std::abort();
      // The ingest's form: the packet keeps the message, its bytes() the same body.
      std::vector<uint8_t> message(in.begin(), in.end());
      auto body = parse_video_tag_body(message);
      auto kept = video_packet_from_tag(*body, 0, std::move(message));
      if (!kept.ok() || !std::equal(kept->bytes().begin(), kept->bytes().end(), v->data.begin(), v->data.end()))
        std::abort();
    }
  }
  if (auto a = parse_audio_tag_body(in); a.ok() && a->is_aac() && a->aac_packet_type == AacPacketType::raw) {
    if (!audio_packet_from_tag(*a, 0).ok()) std::abort();
    std::vector<uint8_t> message(in.begin(), in.end());
    auto body = parse_audio_tag_body(message);
    auto kept = audio_packet_from_tag(*body, 0, std::move(message));
    if (!kept.ok() || !std::equal(kept->bytes().begin(), kept->bytes().end(), a->data.begin(), a->data.end()))
      std::abort();
  }
  // A stream of tags.
  std::span<const uint8_t> rest = in;
  while (!rest.empty()) {
    auto tag = parse_tag(rest);
    if (!tag) break;
    // Equal but for the two reserved bits of the first byte, which parsing ignores
    // (as FFmpeg's flvdec does).
    auto header = serialize_tag_header(tag->header);
    if (header[0] != (rest[0] & 0x3F) || !std::equal(header.begin() + 1, header.end(), rest.begin() + 1))
      std::abort();
    if (tag->header.type == TagType::video) (void)parse_video_tag_body(tag->body);
    if (tag->header.type == TagType::audio) (void)parse_audio_tag_body(tag->body);
    rest = rest.subspan(tag->size());
  }
  return 0;
}
