// The publish side of an RTMP connection, without the socket: RTMP audio/video messages
// (FLV tag bodies, Adobe FLV spec E.4.2/E.4.3) and onMetaData in, hub tracks and
// packets out. Owns the StreamPublisher: destroying this ends the publisher session.
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
  // unsupported codecs are dropped with one warning. `body` is the message's payload:
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

  std::unique_ptr<StreamPublisher> publisher_;
  std::string label_;
  std::optional<VideoTrack> video_;
  std::optional<AudioTrack> audio_;
  bool changed_ = false;  // a sequence header differs from what was announced
  TrackSet announced_;
  rtmp::Amf0Value metadata_;
  uint64_t packets_ = 0;
  bool warned_video_ = false;
  bool warned_audio_ = false;
};

}  // namespace anchorcast
