// libFuzzer target: Enhanced RTMP video tag bodies (ExVideoTagHeader).
// Invariants checked: parsing never reads past the input (ASan); a parsed body's data
// is the tail of the input; a CodedFrames, CodedFramesX or SequenceStart body written
// back from its parsed fields (prefix + data) is the same bytes and parses to the same
// fields; the legacy parser refuses every body with the IsExHeader bit; an hvc1 coded
// frames body becomes a hub packet holding the same NAL units behind 4-byte lengths
// (the message itself for 4-byte input), pts - dts its composition time.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "relay/protocol/flv/ex_video_tag.hpp"
#include "relay/protocol/flv/video_tag.hpp"
#include "relay/protocol/h264/nal_unit.hpp"

using namespace anchorcast::flv;

namespace {

std::vector<std::span<const uint8_t>> units(std::span<const uint8_t> au, int length_size, bool* ok) {
  std::vector<std::span<const uint8_t>> out;
  *ok = anchorcast::h264::for_each_avcc_nal(au, length_size, [&out](std::span<const uint8_t> nal) {
          out.push_back(nal);
        }).ok();
  return out;
}

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
    for (int length_size : {1, 2, 4}) {
      std::vector<uint8_t> message(input);
      auto m = parse_ex_video_tag_body(message);
      if (!m) std::abort();
      const std::span<const uint8_t> data = m->data;
      auto packet = hevc_packet_from_ex_tag(*m, 1000, length_size, std::move(message));
      if (length_size == 4 && !packet) std::abort();  // taken as it is
      if (!packet) continue;
      if (packet->codec != anchorcast::Codec::hevc || packet->keyframe != v->is_keyframe() ||
          packet->pts - packet->dts != v->composition_time_ms)
        std::abort();
      if (length_size == 4) {
        if (packet->bytes().data() != data.data() || packet->bytes().size() != data.size()) std::abort();
        continue;
      }
      bool in_ok = false, out_ok = false;
      const auto in_units = units(data, length_size, &in_ok);
      const auto out_units = units(packet->bytes(), 4, &out_ok);
      if (!in_ok || !out_ok || in_units.size() != out_units.size()) std::abort();
      for (size_t i = 0; i < in_units.size(); ++i)
        if (!std::ranges::equal(in_units[i], out_units[i])) std::abort();
    }
  }
  return 0;
}
