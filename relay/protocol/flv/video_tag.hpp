// The body of an FLV video tag / RTMP video message (Adobe FLV spec v10.1, E.4.3.1
// VIDEODATA + AVCVIDEOPACKET): a 1-byte frame type/codec id, and for AVC the
// AVCPacketType and a signed 24-bit composition time. Egress writes the 5-byte AVC
// prefix from a Packet and sends the shared payload after it without copying.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>
#include <span>

#include "anchorcast/core/result.hpp"
#include "anchorcast/media/packet.hpp"

namespace anchorcast::flv {

enum class VideoFrameType : uint8_t { key = 1, inter = 2, disposable_inter = 3, generated_key = 4, command = 5 };
// CodecID values of E.4.3.1; unknown values pass through parse as they are.
enum class VideoCodecId : uint8_t { sorenson_h263 = 2, screen = 3, vp6 = 4, vp6_alpha = 5, screen_v2 = 6, avc = 7 };
enum class AvcPacketType : uint8_t { sequence_header = 0, nalu = 1, end_of_sequence = 2 };

inline constexpr size_t kAvcVideoPrefixSize = 5;
// SI24 range of CompositionTime.
inline constexpr int32_t kMaxCompositionTimeMs = 0x7FFFFF;
inline constexpr int32_t kMinCompositionTimeMs = -0x800000;

struct VideoTagBody {
  VideoFrameType frame_type = VideoFrameType::inter;
  VideoCodecId codec_id = VideoCodecId::avc;
  // AVC only (codec_id == avc); otherwise sequence_header/0 and unused.
  AvcPacketType avc_packet_type = AvcPacketType::nalu;
  int32_t composition_time_ms = 0;
  // After the prefix: for AVC an AVCDecoderConfigurationRecord (sequence_header) or
  // length-prefixed NAL units (nalu); points into the parsed input.
  std::span<const uint8_t> data;

  bool is_avc() const { return codec_id == VideoCodecId::avc; }
  bool is_keyframe() const { return frame_type == VideoFrameType::key; }
};

// Fails on an empty body, a frame type outside 1..5, or an AVC body shorter than its
// 5-byte prefix. An Enhanced RTMP ExVideoTagHeader (top bit set) fails too, naming its
// FourCC: test is_ex_video_tag_body and use parse_ex_video_tag_body (ex_video_tag.hpp).
Result<VideoTagBody> parse_video_tag_body(std::span<const uint8_t> body);

// The 5-byte AVC prefix; the composition time is clamped to the SI24 range.
std::array<uint8_t, kAvcVideoPrefixSize> serialize_avc_video_prefix(VideoFrameType frame_type,
                                                                    AvcPacketType packet_type,
                                                                    int32_t composition_time_ms);

// The prefix for a sequence header tag whose data is an AVCDecoderConfigurationRecord.
inline std::array<uint8_t, kAvcVideoPrefixSize> avc_sequence_header_prefix() {
  return serialize_avc_video_prefix(VideoFrameType::key, AvcPacketType::sequence_header, 0);
}

// The prefix for an H.264 Packet: key/inter from the keyframe flag, NALU type, and the
// composition time pts - dts in ms. Fails for any other codec.
Result<std::array<uint8_t, kAvcVideoPrefixSize>> video_tag_prefix(const Packet& packet);

// A Packet from an AVC NALU body (ingest): dts = the tag/message time in ms, pts = dts +
// composition time; the payload is copied out of the message. Fails for other codecs
// and packet types (sequence headers become TrackSets, not Packets).
Result<Packet> video_packet_from_tag(const VideoTagBody& body, int64_t dts_ms);
// The same without the copy: `message` holds the tag body `body` was parsed from, and
// the packet takes it over (its access unit at payload_offset, after the tag header).
Result<Packet> video_packet_from_tag(const VideoTagBody& body, int64_t dts_ms, std::vector<uint8_t>&& message);

}  // namespace anchorcast::flv
