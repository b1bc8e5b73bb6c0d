#include "relay/protocol/flv/ex_video_tag.hpp"

#include <algorithm>
#include <cstdio>

#include "relay/protocol/flv/message_storage.hpp"
#include "relay/protocol/h264/nal_unit.hpp"

namespace anchorcast::flv {

namespace {

// v2 VideoPacketType values this v1 parser refuses by name.
constexpr uint8_t kPacketTypeMultitrack = 6;
constexpr uint8_t kPacketTypeModEx = 7;

uint32_t read_u32(std::span<const uint8_t> b) {
  return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | b[3];
}

// SI24, big-endian: sign-extend from bit 23.
int32_t read_si24(std::span<const uint8_t> b) {
  int32_t v = static_cast<int32_t>((uint32_t{b[0]} << 16) | (uint32_t{b[1]} << 8) | b[2]);
  if (v & 0x800000) v -= 0x1000000;
  return v;
}

Error too_short(std::span<const uint8_t> b, size_t need, const char* what) {
  return make_error("Enhanced RTMP video tag body is " + std::to_string(b.size()) + " bytes, need at least " +
                    std::to_string(need) + " for " + what);
}

}  // namespace

bool is_known_video_fourcc(uint32_t fourcc) {
  return fourcc == kFourCcHevc || fourcc == kFourCcAv1 || fourcc == kFourCcVp9 || fourcc == kFourCcAvc ||
         fourcc == kFourCcVp8;
}

std::string fourcc_name(uint32_t fourcc) {
  std::string name = "'";
  for (int shift = 24; shift >= 0; shift -= 8) {
    const auto c = static_cast<char>((fourcc >> shift) & 0xFF);
    if (c < 0x20 || c > 0x7E) {
      char hex[11];
      std::snprintf(hex, sizeof hex, "0x%08X", fourcc);
      return hex;
    }
    name += c;
  }
  return name + "'";
}

bool uses_v2_packet_type(std::span<const uint8_t> body) {
  if (!is_ex_video_tag_body(body)) return false;
  const uint8_t packet_type = body[0] & 0x0F;
  return packet_type == kPacketTypeMultitrack || packet_type == kPacketTypeModEx;
}

bool carries_composition_time(uint32_t fourcc, ExVideoPacketType packet_type) {
  return packet_type == ExVideoPacketType::coded_frames && (fourcc == kFourCcHevc || fourcc == kFourCcAvc);
}

Result<ExVideoTagBody> parse_ex_video_tag_body(std::span<const uint8_t> b) {
  if (b.empty()) return make_error("Enhanced RTMP video tag body is empty");
  if (!is_ex_video_tag_body(b))
    return make_error("FLV video tag has no ExVideoTagHeader (IsExHeader bit clear): it is legacy FLV");
  const uint8_t frame_type = (b[0] >> 4) & 0x07;
  const uint8_t packet_type = b[0] & 0x0F;
  // Table 4: "logic must gracefully fail if ... important signaling/flags are not understood".
  if (packet_type == kPacketTypeMultitrack)
    return make_error("Enhanced RTMP v2 VideoPacketType Multitrack (6) is not supported; send one video track");
  if (packet_type == kPacketTypeModEx)
    return make_error("Enhanced RTMP v2 VideoPacketType ModEx (7) is not supported; send E-RTMP v1 video");
  if (packet_type > kPacketTypeModEx)
    return make_error("Enhanced RTMP VideoPacketType " + std::to_string(packet_type) + " is reserved");
  ExVideoTagBody v;
  v.packet_type = static_cast<ExVideoPacketType>(packet_type);
  v.frame_type = static_cast<VideoFrameType>(frame_type);
  // Table 4: with PacketTypeMetadata the FrameType bits "should be ignored".
  if (v.packet_type != ExVideoPacketType::metadata && (frame_type < 1 || frame_type > 5))
    return make_error("Enhanced RTMP video FrameType " + std::to_string(frame_type) + " is reserved");
  // v2 "ExVideoTagHeader Section": a command frame's UI8 follows the first byte, with no
  // FourCC and no body ("processVideoBody = false").
  if (v.is_command()) {
    if (b.size() < kExVideoCommandBodySize) return too_short(b, kExVideoCommandBodySize, "a video command");
    v.command = b[1];
    v.data = b.subspan(kExVideoCommandBodySize);
    return v;
  }
  if (b.size() < kExVideoHeaderSize) return too_short(b, kExVideoHeaderSize, "the FourCC");
  v.fourcc = read_u32(b.subspan(1, 4));
  size_t header = kExVideoHeaderSize;
  // Table 4 VideoTagBody: "IF PacketType == PacketTypeCodedFrames { SI24 = [CompositionTime Offset] }".
  if (carries_composition_time(v.fourcc, v.packet_type)) {
    if (b.size() < kExVideoPrefixMaxSize) return too_short(b, kExVideoPrefixMaxSize, "the composition time");
    v.composition_time_ms = read_si24(b.subspan(kExVideoHeaderSize, 3));
    header = kExVideoPrefixMaxSize;
  }
  v.data = b.subspan(header);
  return v;
}

ExVideoPrefix serialize_ex_video_prefix(VideoFrameType frame_type, ExVideoPacketType packet_type, uint32_t fourcc,
                                        int32_t composition_time_ms) {
  ExVideoPrefix p;
  p.buffer[0] = static_cast<uint8_t>(kExVideoHeaderBit | ((static_cast<uint8_t>(frame_type) & 0x07) << 4) |
                                     (static_cast<uint8_t>(packet_type) & 0x0F));
  p.buffer[1] = static_cast<uint8_t>(fourcc >> 24);
  p.buffer[2] = static_cast<uint8_t>(fourcc >> 16);
  p.buffer[3] = static_cast<uint8_t>(fourcc >> 8);
  p.buffer[4] = static_cast<uint8_t>(fourcc);
  p.size = kExVideoHeaderSize;
  if (carries_composition_time(fourcc, packet_type)) {
    const int32_t clamped = std::clamp(composition_time_ms, kMinCompositionTimeMs, kMaxCompositionTimeMs);
    const auto cts = static_cast<uint32_t>(clamped);
    p.buffer[5] = static_cast<uint8_t>(cts >> 16);
    p.buffer[6] = static_cast<uint8_t>(cts >> 8);
    p.buffer[7] = static_cast<uint8_t>(cts);
    p.size = kExVideoPrefixMaxSize;
  }
  return p;
}

ExVideoPrefix serialize_hevc_coded_frames_prefix(bool keyframe, int32_t composition_time_ms) {
  const int32_t cts = std::clamp(composition_time_ms, kMinCompositionTimeMs, kMaxCompositionTimeMs);
  return serialize_ex_video_prefix(keyframe ? VideoFrameType::key : VideoFrameType::inter,
                                   cts == 0 ? ExVideoPacketType::coded_frames_x : ExVideoPacketType::coded_frames,
                                   kFourCcHevc, cts);
}

namespace {

std::array<uint8_t, kExVideoHeaderSize> hevc_header_only_prefix(ExVideoPacketType packet_type) {
  const ExVideoPrefix p = serialize_ex_video_prefix(VideoFrameType::key, packet_type, kFourCcHevc, 0);
  std::array<uint8_t, kExVideoHeaderSize> out{};
  std::copy_n(p.buffer.begin(), out.size(), out.begin());
  return out;
}

}  // namespace

std::array<uint8_t, kExVideoHeaderSize> hevc_sequence_start_prefix() {
  return hevc_header_only_prefix(ExVideoPacketType::sequence_start);
}

// The spec gives SequenceEnd no frame type; key, as FFmpeg writes AVC's end of sequence (0x17 0x02).
std::array<uint8_t, kExVideoHeaderSize> hevc_sequence_end_prefix() {
  return hevc_header_only_prefix(ExVideoPacketType::sequence_end);
}

Result<ExVideoPrefix> ex_video_tag_prefix(const Packet& packet) {
  if (packet.kind != MediaKind::video || packet.codec != Codec::hevc)
    return make_error("Enhanced RTMP video tags are written for HEVC only");
  const int64_t cts = std::clamp<int64_t>(packet.cts_in(kMillis), kMinCompositionTimeMs, kMaxCompositionTimeMs);
  return serialize_hevc_coded_frames_prefix(packet.keyframe, static_cast<int32_t>(cts));
}

namespace {

// The units of `au` (behind `length_size`-byte lengths) appended to `out` behind 4-byte
// ones. Zero-length units are dropped, as every walker skips them.
Status append_with_four_byte_lengths(std::span<const uint8_t> au, int length_size, std::vector<uint8_t>& out) {
  return h264::for_each_avcc_nal(au, length_size, [&out](std::span<const uint8_t> nal) {
    const auto n = static_cast<uint32_t>(nal.size());
    const uint8_t length[4] = {static_cast<uint8_t>(n >> 24), static_cast<uint8_t>(n >> 16),
                               static_cast<uint8_t>(n >> 8), static_cast<uint8_t>(n)};
    out.insert(out.end(), std::begin(length), std::end(length));
    out.insert(out.end(), nal.begin(), nal.end());
  });
}

}  // namespace

Result<Packet> hevc_packet_from_ex_tag(const ExVideoTagBody& body, int64_t dts_ms, int length_size) {
  if (!body.is_hevc())
    return make_error("Enhanced RTMP video FourCC " + fourcc_name(body.fourcc) + " is not supported (HEVC 'hvc1' only)");
  if (!body.is_coded_frames()) return make_error("Enhanced RTMP HEVC tag is not CodedFrames or CodedFramesX");
  Packet p;
  p.kind = MediaKind::video;
  p.codec = Codec::hevc;
  p.keyframe = body.is_keyframe();
  p.time_base = kMillis;
  p.dts = dts_ms;
  p.pts = dts_ms + body.composition_time_ms;
  if (length_size == 4) {
    p.payload.assign(body.data.begin(), body.data.end());
    return p;
  }
  // ISO 14496-15 lets lengthSizeMinusOne be 0 or 1 too; every hub consumer reads 4.
  if (auto s = append_with_four_byte_lengths(body.data, length_size, p.payload); !s)
    return make_error("HEVC coded frames: " + s.error().message);
  return p;
}

Result<Packet> hevc_packet_from_ex_tag(const ExVideoTagBody& body, int64_t dts_ms, int length_size,
                                       std::vector<uint8_t>&& message) {
  if (length_size != 4) return hevc_packet_from_ex_tag(body, dts_ms, length_size);  // rewritten: a copy anyway
  ExVideoTagBody header = body;
  header.data = {};
  return keep_message(hevc_packet_from_ex_tag(header, dts_ms, length_size), body.data, std::move(message));
}

}  // namespace anchorcast::flv
