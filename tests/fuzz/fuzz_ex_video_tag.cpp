// libFuzzer target: Enhanced RTMP video tag bodies (ExVideoTagHeader).
// Invariants checked: parsing never reads past the input (ASan); a parsed body's data
// is the tail of the input; a CodedFrames, CodedFramesX or SequenceStart body written
// back from its parsed fields (prefix + data) is the same bytes and parses to the same
// fields; the legacy parser refuses every body with the IsExHeader bit.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "relay/protocol/flv/ex_video_tag.hpp"
#include "relay/protocol/flv/video_tag.hpp"

using namespace anchorcast::flv;

namespace {

bool same_fields(const ExVideoTagBody& a, const ExVideoTagBody& b) {
  return a.frame_type == b.frame_type && a.packet_type == b.packet_type && a.fourcc == b.fourcc &&
         a.composition_time_ms == b.composition_time_ms && a.command == b.command &&
         std::equal(a.data.begin(), a.data.end(), b.data.begin(), b.data.end());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // A copy of exactly `size` bytes, so ASan sees any read past the end.
  const std::vector<uint8_t> input(data, data + size);
  const std::span<const uint8_t> in(input);
  if (is_ex_video_tag_body(in) && parse_video_tag_body(in).ok()) std::abort();
  auto v = parse_ex_video_tag_body(in);
  if (!v) return 0;
  if (v->data.data() + v->data.size() != in.data() + in.size()) std::abort();
  if (v->composition_time_ms < kMinCompositionTimeMs || v->composition_time_ms > kMaxCompositionTimeMs) std::abort();
  if (!v->is_coded_frames() && v->packet_type != ExVideoPacketType::sequence_start) return 0;
  if (v->is_command()) return 0;
  const ExVideoPrefix prefix =
      serialize_ex_video_prefix(v->frame_type, v->packet_type, v->fourcc, v->composition_time_ms);
  std::vector<uint8_t> written(prefix.bytes().begin(), prefix.bytes().end());
  written.insert(written.end(), v->data.begin(), v->data.end());
  if (!std::equal(written.begin(), written.end(), in.begin(), in.end())) std::abort();
  auto back = parse_ex_video_tag_body(written);
  if (!back || !same_fields(*v, *back)) std::abort();
  // The HEVC writer: same frame kind, time and data, CodedFramesX exactly when the time is 0.
  if (v->is_hevc() && v->is_coded_frames()) {
    const ExVideoPrefix hevc = serialize_hevc_coded_frames_prefix(v->is_keyframe(), v->composition_time_ms);
    std::vector<uint8_t> body(hevc.bytes().begin(), hevc.bytes().end());
    body.insert(body.end(), v->data.begin(), v->data.end());
    auto h = parse_ex_video_tag_body(body);
    if (!h || h->is_keyframe() != v->is_keyframe() || h->composition_time_ms != v->composition_time_ms ||
        (h->packet_type == ExVideoPacketType::coded_frames_x) != (v->composition_time_ms == 0) ||
        !std::equal(h->data.begin(), h->data.end(), v->data.begin(), v->data.end()))
      std::abort();
  }
  return 0;
}
