// The unit of media in the relay: one encoded access unit, immutable once shared.
// Fan-out hands the same PacketPtr to every viewer; payload bytes are never copied.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "anchorcast/media/time.hpp"

namespace anchorcast {

enum class MediaKind : uint8_t { video, audio };

enum class Codec : uint8_t { h264, hevc, aac, opus };

// Inline: the vocabulary is headers only, and every module names codecs in its errors.
inline const char* codec_name(Codec codec) {
  switch (codec) {
    case Codec::h264: return "h264";
    case Codec::hevc: return "hevc";
    case Codec::aac: return "aac";
    case Codec::opus: return "opus";
  }
  return "?";
}

struct Packet {
  MediaKind kind = MediaKind::video;
  Codec codec = Codec::h264;
  bool keyframe = false;  // video: an IDR access unit; audio: always true
  TimeBase time_base = kMillis;
  int64_t dts = 0;
  int64_t pts = 0;
  // The access unit is bytes(): h264/hevc, NAL units, each behind a 4-byte big-endian
  // length (AVCC/HVCC form); aac, one raw AAC frame (no ADTS header). It starts
  // `payload_offset` bytes into `payload`: an ingest keeps the buffer the bytes arrived
  // in (an RTMP message with its FLV tag header in front) instead of copying them out.
  // Read the access unit through bytes(), never `payload` directly.
  std::vector<uint8_t> payload;
  uint32_t payload_offset = 0;

  std::span<const uint8_t> bytes() const { return std::span<const uint8_t>(payload).subspan(payload_offset); }
  int64_t dts_in(TimeBase tb) const { return rescale(dts, time_base, tb); }
  int64_t pts_in(TimeBase tb) const { return rescale(pts, time_base, tb); }
  // Composition offset (pts - dts), as FLV's CompositionTime wants it.
  int64_t cts_in(TimeBase tb) const { return pts_in(tb) - dts_in(tb); }
};

using PacketPtr = std::shared_ptr<const Packet>;

}  // namespace anchorcast
