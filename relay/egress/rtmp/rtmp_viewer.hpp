// The play side of an RTMP connection, without the socket: hub MediaEvents in, RTMP
// messages (FLV tag bodies, Adobe FLV spec E.4; HEVC as Enhanced RTMP v1 tags) out into
// a write batch. Track announcements become onMetaData plus the video (AVC sequence
// header or HEVC SequenceStart) and AAC sequence headers, sent just before the next
// packet so they carry its timestamp. A cue becomes an onCuePoint data
// message (type 18) on the play stream at the cue's pts, its bytes shared by every
// viewer; one that comes before the first packet waits for it.
#pragma once

#include <cstdint>

#include "anchorcast/hub/media_event.hpp"
#include "relay/egress/rtmp/rtmp_framed_message.hpp"
#include "relay/egress/rtmp/rtmp_play_batch.hpp"
#include "relay/protocol/rtmp/amf0.hpp"
#include "relay/protocol/rtmp/chunk_writer.hpp"

namespace anchorcast {

class RtmpViewer {
 public:
  explicit RtmpViewer(uint32_t stream_id) : stream_id_(stream_id) {}

  enum class Action { keep, close };
  // Media goes into `batch` in the chunked form `cache` shares among this loop's players.
  Action on_event(const MediaEvent& event, const rtmp::ChunkWriter& writer, FramedMessageCache& cache,
                  RtmpPlayBatch& batch);

  uint64_t packets_sent() const { return packets_sent_; }

 private:
  void send_cue(const CuePtr& cue, const rtmp::ChunkWriter& writer, FramedMessageCache& cache, RtmpPlayBatch& batch);
  void send_tracks(const TrackSet& tracks, uint32_t timestamp, const rtmp::ChunkWriter& writer,
                   RtmpPlayBatch& batch);

  uint32_t stream_id_;
  TrackSetPtr pending_tracks_;  // announced, not yet sent
  CuePtr pending_cue_;          // came before any packet was sent
  uint64_t packets_sent_ = 0;
  bool warned_codec_ = false;
};

// onMetaData for a TrackSet (what FMS and SRS send: sizes, rate, FLV codec ids; for
// HEVC videocodecid is the FourCC 'hvc1' as a number, enhanced-rtmp v1).
rtmp::Amf0Value metadata_for(const TrackSet& tracks);

}  // namespace anchorcast
