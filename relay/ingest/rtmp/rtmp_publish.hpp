// The publish side of an RTMP connection, without the socket: RTMP audio/video messages
// (FLV tag bodies, Adobe FLV spec E.4.2/E.4.3: H.264 and AAC; Enhanced RTMP v1
// ExVideoTagHeader bodies: HEVC as 'hvc1') and onMetaData in, hub tracks and packets out.
// Owns the StreamPublisher: destroying this ends the publisher session.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "anchorcast/core/result.hpp"
#include "anchorcast/hub/stream.hpp"
#include "relay/protocol/rtmp/amf0.hpp"

namespace anchorcast {

class RtmpPublish {
 public:
  // `label` prefixes the few log lines (peer address and stream id, never the key).
  RtmpPublish(std::unique_ptr<StreamPublisher> publisher, std::string label);

  // An error means the publisher sent something undecodable (the session closes);
  // unsupported codecs (VP9, AV1, E-RTMP v2 multitrack) are dropped with one warning per
  // session, ignored signalling (E-RTMP video metadata) noted once. `body` is the message's payload:
  // a media packet keeps it as its storage (no copy of the access unit).
  Status on_video(uint32_t timestamp_ms, std::vector<uint8_t> body);
  Status on_audio(uint32_t timestamp_ms, std::vector<uint8_t> body);
  // onMetaData / @setDataFrame: fallbacks for what the sequence headers do not say
  // (frame rate when the SPS has no VUI timing, sizes, channel count).
  void on_metadata(const rtmp::Amf0Value& metadata);

  Stream& stream() { return publisher_->stream(); }
  const TrackSet& announced() const { return announced_; }
  uint64_t packets() const { return packets_; }

 private:
  void announce_if_changed();
  Status on_ex_video(uint32_t timestamp_ms, std::vector<uint8_t> body);
  Status on_hevc_sequence_start(std::span<const uint8_t> record);
  // One log line per session and kind: `flag` says whether it was written.
  void warn_once(bool& flag, const std::string& what);

  std::unique_ptr<StreamPublisher> publisher_;
  std::string label_;
  std::optional<VideoTrack> video_;
  std::optional<AudioTrack> audio_;
  bool changed_ = false;  // a sequence header differs from what was announced
  TrackSet announced_;
  rtmp::Amf0Value metadata_;
  uint64_t packets_ = 0;
  // The NAL length size of the HEVC publisher's record (its packets are rewritten to 4).
  int hevc_length_size_ = 4;
  bool warned_video_ = false;     // video dropped: codec or E-RTMP feature not supported
  bool warned_audio_ = false;
  bool warned_ignored_ = false;   // E-RTMP video signalling ignored (metadata, MPEG-2 TS start)
  bool warned_keyframe_ = false;  // an HEVC frame type disagreed with its NAL unit types
};

}  // namespace anchorcast
