// The body of an Enhanced RTMP video tag / RTMP video message (veovera enhanced-rtmp
// v1, "Defining Additional Video Codecs", Table 4: ExVideoTagHeader + VideoTagBody),
// which a set top bit (IsExHeader) in the first byte tells apart from the legacy body
// of video_tag.hpp: UB[1] IsExHeader, UB[3] FrameType, UB[4] PacketType, a UI32 FourCC
// naming the codec, and for HEVC (and v2's AVC) coded frames a SI24 composition time.
// Where v1 leaves the layout open (the command frame) we follow the v2 pseudocode
// ("ExVideoTagHeader Section"). Ingest turns hvc1 coded frames into hub packets that
// keep the message (hevc_packet_from_ex_tag); egress writes the 5- or 8-byte prefix and
// sends the shared payload after it without copying.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "anchorcast/core/result.hpp"
#include "anchorcast/media/packet.hpp"
#include "relay/protocol/flv/video_tag.hpp"

namespace anchorcast::flv {

// enhanced-rtmp v1 Table 4: "IF (UB[4] & 0b1000) != 0 { IsExHeader = true }".
inline constexpr uint8_t kExVideoHeaderBit = 0x80;

// A FOURCC is the four ASCII bytes read as a big-endian UI32 ('av01' == 0x61763031).
constexpr uint32_t make_fourcc(char a, char b, char c, char d) {
  return (uint32_t{static_cast<uint8_t>(a)} << 24) | (uint32_t{static_cast<uint8_t>(b)} << 16) |
         (uint32_t{static_cast<uint8_t>(c)} << 8) | uint32_t{static_cast<uint8_t>(d)};
}
// v1 Table 4 "Video FourCC" defines av01, vp09 and hvc1; v2's VideoFourCc adds avc1 and vp08.
inline constexpr uint32_t kFourCcAv1 = make_fourcc('a', 'v', '0', '1');
inline constexpr uint32_t kFourCcVp9 = make_fourcc('v', 'p', '0', '9');
inline constexpr uint32_t kFourCcHevc = make_fourcc('h', 'v', 'c', '1');
inline constexpr uint32_t kFourCcAvc = make_fourcc('a', 'v', 'c', '1');
inline constexpr uint32_t kFourCcVp8 = make_fourcc('v', 'p', '0', '8');

// One of the FourCCs above.
bool is_known_video_fourcc(uint32_t fourcc);
// 'hvc1' when all four bytes are printable ASCII, else 0x-hex: for messages.
std::string fourcc_name(uint32_t fourcc);

// v1 Table 4 PacketType (v2 VideoPacketType). v2's Multitrack (6) and ModEx (7) and
// the reserved 8..15 are refused by the parser, so a parsed body holds one of these.
enum class ExVideoPacketType : uint8_t {
  sequence_start = 0,
  coded_frames = 1,
  sequence_end = 2,
  coded_frames_x = 3,  // coded frames with an implied composition time of 0
  metadata = 4,        // AMF-encoded [name, value] pairs (e.g. "colorInfo"), no video
  mpeg2ts_sequence_start = 5,
};
// v1 Table 4, FrameType 5: a UI8 follows instead of video data.
enum class VideoCommand : uint8_t { start_seek = 0, end_seek = 1 };

inline constexpr size_t kExVideoHeaderSize = 5;       // the first byte + the FourCC
inline constexpr size_t kExVideoPrefixMaxSize = 8;    // + the SI24 composition time
inline constexpr size_t kExVideoCommandBodySize = 2;  // the first byte + the command

// Whether `body` starts with an ExVideoTagHeader (parse it here, not with
// parse_video_tag_body).
inline bool is_ex_video_tag_body(std::span<const uint8_t> body) {
  return !body.empty() && (body[0] & kExVideoHeaderBit) != 0;
}

// Whether `body` (with the IsExHeader bit) uses a VideoPacketType of Enhanced RTMP v2
// that parse_ex_video_tag_body refuses (Multitrack 6, ModEx 7): a v2 publisher's video,
// which an ingest drops by name, rather than a malformed body.
bool uses_v2_packet_type(std::span<const uint8_t> body);

// Whether a body of this codec and packet type carries the SI24 CompositionTime: v1's
// VideoTagBody pseudocode gives it to hvc1 CodedFrames, v2's to avc1 too.
bool carries_composition_time(uint32_t fourcc, ExVideoPacketType packet_type);

struct ExVideoTagBody {
  // 1..5. For metadata the three bits as sent, which Table 4 says to ignore.
  VideoFrameType frame_type = VideoFrameType::inter;
  ExVideoPacketType packet_type = ExVideoPacketType::coded_frames;
  // The codec; 0 for a command frame, which carries none (v2 ExVideoTagHeader Section).
  uint32_t fourcc = 0;
  // The SI24 CompositionTime when carries_composition_time(), else 0.
  int32_t composition_time_ms = 0;
  // Command frames only (a VideoCommand, passed through as sent).
  uint8_t command = 0;
  // After the header, pointing into the parsed input: the codec configuration record
  // (sequence_start: hvcC, av1C, vpcC, avcC), the coded frames (for hvc1/avc1 NAL units
  // behind 4-byte lengths), the AMF metadata, the AV1VideoDescriptor
  // (mpeg2ts_sequence_start); empty for sequence_end and command frames. For an unknown
  // FourCC everything after the FourCC, whatever the codec would put there.
  std::span<const uint8_t> data;

  bool is_command() const {
    return frame_type == VideoFrameType::command && packet_type != ExVideoPacketType::metadata;
  }
  bool is_keyframe() const { return frame_type == VideoFrameType::key && packet_type != ExVideoPacketType::metadata; }
  bool is_coded_frames() const {
    return packet_type == ExVideoPacketType::coded_frames || packet_type == ExVideoPacketType::coded_frames_x;
  }
  bool is_hevc() const { return fourcc == kFourCcHevc; }
  // An unknown FourCC parses (so the caller can name it when refusing it) but its data
  // layout is not known.
  bool has_known_fourcc() const { return is_known_video_fourcc(fourcc); }
};

// Fails on a body without the IsExHeader bit, a reserved frame type (0, 6, 7; allowed
// for metadata, whose frame type is ignored), a packet type of v2 (Multitrack, ModEx)
// or reserved, and a body shorter than its header. Never reads past `body`.
Result<ExVideoTagBody> parse_ex_video_tag_body(std::span<const uint8_t> body);

// The header bytes in front of the data: 5 bytes, or 8 with a composition time.
struct ExVideoPrefix {
  std::array<uint8_t, kExVideoPrefixMaxSize> buffer{};
  uint8_t size = 0;
  std::span<const uint8_t> bytes() const { return std::span<const uint8_t>(buffer).first(size); }
};

// The prefix of any body with a FourCC (every one but a command frame): the SI24
// composition time, clamped to its range like the AVC one, is written exactly when
// carries_composition_time(fourcc, packet_type), so parsing gives the fields back.
ExVideoPrefix serialize_ex_video_prefix(VideoFrameType frame_type, ExVideoPacketType packet_type, uint32_t fourcc,
                                        int32_t composition_time_ms);

// The prefix of one HEVC access unit: key/inter frame, CodedFrames with the clamped
// composition time, or CodedFramesX when that is 0 — the form FFmpeg's flvenc writes,
// 3 bytes less per frame for streams without B-frames; every E-RTMP reader takes both.
ExVideoPrefix serialize_hevc_coded_frames_prefix(bool keyframe, int32_t composition_time_ms);

// The prefix for a SequenceStart (key frame) whose data is an
// HEVCDecoderConfigurationRecord (ISO 14496-15, 8.3.3.1.2), and for a SequenceEnd.
std::array<uint8_t, kExVideoHeaderSize> hevc_sequence_start_prefix();
std::array<uint8_t, kExVideoHeaderSize> hevc_sequence_end_prefix();

// The prefix for an HEVC Packet: key/inter from the keyframe flag and the composition
// time pts - dts in ms. Fails for any other codec.
Result<ExVideoPrefix> ex_video_tag_prefix(const Packet& packet);

// A Packet from an hvc1 CodedFrames or CodedFramesX body (ingest): dts = the message
// time in ms, pts = dts + the composition time, keyframe from the frame type.
// `length_size` is the NAL length size of the stream's HEVCDecoderConfigurationRecord
// (lengthSizeMinusOne + 1: 1, 2 or 4); the packet holds the NAL units behind 4-byte
// lengths, as the Packet contract demands, so other sizes are rewritten (a copy) and fail
// when a length runs past the end. Four-byte units are taken as they are (checking them
// is the caller's: hevc::for_each_nal). Fails for other FourCCs and packet types (a
// SequenceStart becomes a VideoTrack, not a Packet).
Result<Packet> hevc_packet_from_ex_tag(const ExVideoTagBody& body, int64_t dts_ms, int length_size);
// The same without the copy when `length_size` is 4: `message` holds the tag body `body`
// was parsed from, and the packet takes it over (its access unit at payload_offset,
// after the 5- or 8-byte header), as video_packet_from_tag does for H.264.
Result<Packet> hevc_packet_from_ex_tag(const ExVideoTagBody& body, int64_t dts_ms, int length_size,
                                       std::vector<uint8_t>&& message);

}  // namespace anchorcast::flv
