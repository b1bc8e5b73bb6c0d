// What a subscriber receives, in order: track announcements, packets, and session ends.
#pragma once

#include <cstdint>
#include <utility>

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

  static MediaEvent of_packet(PacketPtr p) { return {Type::packet, false, std::move(p), nullptr}; }
  static MediaEvent of_tracks(TrackSetPtr t, bool new_session) {
    return {Type::tracks, new_session, nullptr, std::move(t)};
  }
  static MediaEvent publisher_left() { return {Type::publisher_gone, false, nullptr, nullptr}; }
  static MediaEvent closed() { return {Type::stream_closed, false, nullptr, nullptr}; }
};

}  // namespace anchorcast
