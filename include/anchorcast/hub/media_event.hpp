// What a subscriber receives, in order: track announcements, packets, and session ends.
#pragma once

#include <cstdint>

#include "anchorcast/media/packet.hpp"
#include "anchorcast/media/track.hpp"

namespace anchorcast {

struct MediaEvent {
  enum class Type : uint8_t {
    packet,          // `packet` is set
    tracks,          // `tracks` is set; `new_session` says a new publisher started
    publisher_gone,  // the publisher left; the stream may come back
    stream_closed,   // the stream was removed; end the viewer
  };
  Type type = Type::packet;
  bool new_session = false;
  PacketPtr packet;
  TrackSetPtr tracks;
};

}  // namespace anchorcast
