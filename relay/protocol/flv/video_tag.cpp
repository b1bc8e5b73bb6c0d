#include "relay/protocol/flv/video_tag.hpp"

#include <algorithm>
#include <string>

#include "relay/protocol/flv/ex_video_tag.hpp"
#include "relay/protocol/flv/message_storage.hpp"

namespace anchorcast::flv {

Result<VideoTagBody> parse_video_tag_body(std::span<const uint8_t> b) {
  if (b.empty()) return make_error("FLV video tag body is empty");
  // Enhanced RTMP (v1, 2023) sets the top bit (IsExHeader) and follows with a FourCC;
  // parse_ex_video_tag_body (ex_video_tag.hpp) reads that body. The error stays so the
  // callers that take H.264 only keep refusing it by name.
  if (is_ex_video_tag_body(b)) {
    auto ex = parse_ex_video_tag_body(b);
    const std::string codec = ex && !ex->is_command() ? " (FourCC " + fourcc_name(ex->fourcc) + ")" : "";
    return make_error("FLV video tag uses an Enhanced RTMP ExVideoTagHeader" + codec +
                      ", which is not supported here (parse_ex_video_tag_body reads it)");
  }
  VideoTagBody v;
  uint8_t frame_type = b[0] >> 4;
  if (frame_type < 1 || frame_type > 5)
    return make_error("FLV video FrameType " + std::to_string(frame_type) + " is reserved");
  v.frame_type = static_cast<VideoFrameType>(frame_type);
  v.codec_id = static_cast<VideoCodecId>(b[0] & 0x0F);
  if (!v.is_avc()) {
    v.avc_packet_type = AvcPacketType::sequence_header;
    v.data = b.subspan(1);
    return v;
  }
  if (b.size() < kAvcVideoPrefixSize)
    return make_error("FLV AVC video tag body is " + std::to_string(b.size()) + " bytes, need at least 5");
  if (b[1] > 2) return make_error("FLV AVCPacketType " + std::to_string(b[1]) + " is reserved");
  v.avc_packet_type = static_cast<AvcPacketType>(b[1]);
  // SI24, big-endian: sign-extend from bit 23.
  int32_t cts = static_cast<int32_t>((uint32_t{b[2]} << 16) | (uint32_t{b[3]} << 8) | b[4]);
  if (cts & 0x800000) cts -= 0x1000000;
  v.composition_time_ms = cts;
  v.data = b.subspan(kAvcVideoPrefixSize);
  return v;
}

std::array<uint8_t, kAvcVideoPrefixSize> serialize_avc_video_prefix(VideoFrameType frame_type,
                                                                    AvcPacketType packet_type,
                                                                    int32_t composition_time_ms) {
  const int32_t cts = std::clamp(composition_time_ms, kMinCompositionTimeMs, kMaxCompositionTimeMs);
  const auto u = static_cast<uint32_t>(cts);
  return {static_cast<uint8_t>((static_cast<uint8_t>(frame_type) << 4) | static_cast<uint8_t>(VideoCodecId::avc)),
          static_cast<uint8_t>(packet_type), static_cast<uint8_t>(u >> 16), static_cast<uint8_t>(u >> 8),
          static_cast<uint8_t>(u)};
}

Result<std::array<uint8_t, kAvcVideoPrefixSize>> video_tag_prefix(const Packet& packet) {
  if (packet.kind != MediaKind::video || packet.codec != Codec::h264)
    return make_error("FLV video tags carry H.264 only");
  const int64_t cts = std::clamp<int64_t>(packet.cts_in(kMillis), kMinCompositionTimeMs, kMaxCompositionTimeMs);
  return serialize_avc_video_prefix(packet.keyframe ? VideoFrameType::key : VideoFrameType::inter,
                                    AvcPacketType::nalu, static_cast<int32_t>(cts));
}

Result<Packet> video_packet_from_tag(const VideoTagBody& body, int64_t dts_ms) {
  if (!body.is_avc()) return make_error("FLV video codec id " + std::to_string(static_cast<int>(body.codec_id)) +
                                        " is not supported (H.264 only)");
  if (body.avc_packet_type != AvcPacketType::nalu) return make_error("FLV AVC tag is not a NALU packet");
  Packet p;
  p.kind = MediaKind::video;
  p.codec = Codec::h264;
  p.keyframe = body.is_keyframe();
  p.time_base = kMillis;
  p.dts = dts_ms;
  p.pts = dts_ms + body.composition_time_ms;
  p.payload.assign(body.data.begin(), body.data.end());
  return p;
}

Result<Packet> video_packet_from_tag(const VideoTagBody& body, int64_t dts_ms, std::vector<uint8_t>&& message) {
  VideoTagBody header = body;
  header.data = {};
  return keep_message(video_packet_from_tag(header, dts_ms), body.data, std::move(message));
}

}  // namespace anchorcast::flv
