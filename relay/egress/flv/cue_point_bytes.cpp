#include "relay/egress/flv/cue_point_bytes.hpp"

#include <mutex>

#include "relay/protocol/flv/cue_point.hpp"

namespace anchorcast {

PacketPtr cue_point_bytes(const CuePtr& cue) {
  // Cues come one at a time per stream and every viewer asks right after the hub fans a
  // cue out, so a few recent cues are enough; viewers on several streams share them.
  struct Entry {
    std::weak_ptr<const Cue> cue;
    PacketPtr bytes;
  };
  static std::mutex mutex;
  static Entry recent[8];
  static size_t next = 0;
  std::lock_guard lock(mutex);
  for (const auto& e : recent)
    if (!e.cue.expired() && e.cue.lock() == cue) return e.bytes;
  auto packet = std::make_shared<Packet>();
  packet->payload = flv::serialize_overlay_cue_point(cue->pts_ms, cue->version, cue->json);
  recent[next] = Entry{cue, packet};
  next = (next + 1) % std::size(recent);
  return packet;
}

}  // namespace anchorcast
