// What a subscriber receives, in order: track announcements, packets, timed metadata
// (cues) and session ends.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "anchorcast/media/packet.hpp"
#include "anchorcast/media/track.hpp"

namespace anchorcast {

// Timed metadata: what the overlays are from `pts_ms` on, in the stream's output timeline
// (the pts of the first frame that shows it, for a composited stream). `json` is
// {"type":"overlays","version":V,"pts_ms":P,"overlays":[...every visible card and sale...]}:
// each cue is the whole state, so one cue is enough for a viewer who joins late.
struct Cue {
  int64_t pts_ms = 0;
  uint64_t version = 0;
  std::string json;
};
using CuePtr = std::shared_ptr<const Cue>;

struct MediaEvent {
  enum class Type : uint8_t {
    packet,          // `packet` is set
    tracks,          // `tracks` is set; `new_session` says a new publisher started
    publisher_gone,  // the publisher left; the stream may come back
    stream_closed,   // the stream was removed; end the viewer
    cue,             // `cue` is set
  };
  Type type = Type::packet;
  bool new_session = false;
  PacketPtr packet;
  TrackSetPtr tracks;
  CuePtr cue;

  static MediaEvent of_packet(PacketPtr p) { return {Type::packet, false, std::move(p), nullptr, nullptr}; }
  static MediaEvent of_tracks(TrackSetPtr t, bool new_session) {
    return {Type::tracks, new_session, nullptr, std::move(t), nullptr};
  }
  static MediaEvent of_cue(CuePtr c) { return {Type::cue, false, nullptr, nullptr, std::move(c)}; }
  static MediaEvent publisher_left() { return {Type::publisher_gone, false, nullptr, nullptr, nullptr}; }
  static MediaEvent closed() { return {Type::stream_closed, false, nullptr, nullptr, nullptr}; }
};

}  // namespace anchorcast
