// HTTP-FLV for one viewer (Adobe FLV spec v10.1, Annex E; HEVC video as Enhanced RTMP
// v1 tags: SequenceStart with the hvcC, CodedFrames/CodedFramesX): MediaEvents become
// write batches. Payloads are never copied, and a media packet's tag is framed once for
// the viewers of a loop (FramedTag: header, prefix and PreviousTagSize, referenced with
// the payload and held until the write completes). A batch owns only the rare
// per-viewer bytes: file header, metadata, sequence headers, cue tags.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "anchorcast/hub/media_event.hpp"
#include "relay/egress/flv/flv_framed_tag.hpp"

namespace anchorcast {

class FlvBatch {
 public:
  bool empty() const { return refs_.empty(); }
  size_t size_bytes() const { return size_bytes_; }
  // Calls fn(std::span<const uint8_t>) for the bytes to write, in order, as pieces of a
  // scatter-gather write (no allocation: this runs per write per viewer). Valid until the
  // batch changes or is destroyed.
  template <class Fn>
  void for_each_span(Fn&& fn) const {
    for (const auto& r : refs_) fn(std::span<const uint8_t>(r.data ? r.data : owned_.data() + r.offset, r.length));
  }
  // The same pieces in a vector (tests).
  std::vector<std::span<const uint8_t>> spans() const;
  // Empties the batch (releasing its packets); keeps the capacity of a few tags.
  void clear();

 private:
  friend class FlvMuxer;
  void add_owned(std::span<const uint8_t> bytes);
  void add_payload(const PacketPtr& packet);
  void add_framed(FramedTagPtr tag);

  struct Ref {
    const uint8_t* data;  // nullptr: `length` bytes of owned_ at `offset`
    size_t offset;
    size_t length;
  };
  std::vector<uint8_t> owned_;
  std::vector<Ref> refs_;
  std::vector<PacketPtr> packets_;
  std::vector<FramedTagPtr> framed_;
  size_t size_bytes_ = 0;
};

class FlvMuxer {
 public:
  // `shared`: the loop's cache of framed tags (the viewers of one loop share it); without
  // one, each media tag is framed for this viewer alone.
  explicit FlvMuxer(FramedTagCache* shared = nullptr) : shared_(shared) {}

  // Appends what `event` becomes to `batch`: the FLV header before anything else;
  // onMetaData and the video/AAC sequence headers on new tracks (written just before the
  // next packet, at its time); one tag per H.264/HEVC/AAC packet, from the first video
  // keyframe on. Timestamps are the packets' dts in ms on the hub's steady timeline,
  // not rebased per viewer. A cue becomes an onCuePoint script tag (AMF0 data, bytes
  // shared by all viewers) stamped with its pts, also for a viewer who joined after it
  // (the state holds since then; a player fires a cue in the past at once); a cue that
  // comes before the first frame waits for it. Returns false once the stream is closed:
  // end the response.
  bool on_event(const MediaEvent& event, FlvBatch& batch);

 private:
  void write_cue(const CuePtr& cue, FlvBatch& batch);
  void write_tracks(const TrackSet& tracks, uint32_t timestamp_ms, FlvBatch& batch);
  void write_tag(uint8_t type, uint32_t timestamp_ms, std::span<const uint8_t> body_prefix,
                 const PacketPtr& payload_owner, std::span<const uint8_t> owned_body, FlvBatch& batch);

  FramedTagCache* shared_;
  bool header_written_ = false;
  TrackSetPtr tracks_;          // the tracks in force
  TrackSetPtr pending_tracks_;  // announced, headers not written yet
  bool waiting_for_keyframe_ = true;
  CuePtr pending_cue_;  // came before the first frame was written
};

}  // namespace anchorcast
