// MPEG-TS (ITU-T H.222.0) demuxer for ingest: bytes in any split → the hub's Packets and
// the TrackSet they need. Pure and bounded (no I/O, no clocks), so SRT ingest, tests and
// the fuzzer drive it the same way.
//
// What it takes: 188-byte TS packets (sync regained after garbage), the first program
// of the PAT, and from its PMT the first H.264 (stream_type 0x1B) or HEVC (0x24) video
// and the first AAC ADTS (0x0F) audio stream. What it gives:
//  - H.264 as AVCC (4-byte lengths), AUDs dropped, SPS/PPS moved into the track's
//    AVCDecoderConfigurationRecord; keyframe = the access unit has an IDR slice.
//  - HEVC the same way: 4-byte lengths, AUDs dropped, the base layer's VPS/SPS/PPS moved
//    into the track's HEVCDecoderConfigurationRecord (width and height from the SPS);
//    keyframe = the access unit has an IRAP picture (IDR, CRA, BLA: types 16..23).
//  - AAC one raw frame per Packet (ADTS header stripped), each with its own pts.
//  - pts/dts in 90 kHz, the 33-bit wrap unwrapped into one 64-bit timeline.
//  - New parameter sets: a new TrackSet, announced before the frame that uses them.
// Nothing is emitted before the TrackSet: packets wait (bounded) until every selected
// stream has its decoder configuration, and video starts at a keyframe; the same after
// a PMT change, so the new streams arrive under one new TrackSet (what is still held of
// the old ones goes out first, under theirs). A continuity
// error drops the broken PES; video then waits for the next keyframe so no frame that
// references a lost one reaches a decoder.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "anchorcast/media/packet.hpp"
#include "anchorcast/media/track.hpp"

namespace anchorcast {

inline constexpr size_t kTsPacketSize = 188;

struct TsDemuxerLimits {
  size_t max_video_pes_bytes = 8u << 20;  // a 4K intra frame at a high bitrate fits
  size_t max_audio_pes_bytes = 64u << 10;
  // Packets held back while a stream the PMT announced has no configuration yet (e.g.
  // audio declared but never sent): past either bound, the tracks that are ready are
  // announced and the rest join later with a new TrackSet.
  size_t max_pending_packets = 600;
  int64_t max_pending_90khz = 2 * 90000;
};

struct TsDemuxerStats {
  uint64_t bytes = 0;
  uint64_t ts_packets = 0;
  uint64_t sync_losses = 0;       // times the 0x47 sync byte was lost and searched for
  uint64_t skipped_bytes = 0;     // bytes thrown away while searching
  uint64_t transport_errors = 0;  // packets flagged transport_error_indicator
  uint64_t scrambled = 0;         // packets with transport_scrambling_control set
  uint64_t cc_errors = 0;         // continuity_counter jumps on a PID we follow
  uint64_t pes_dropped = 0;       // PES thrown away: continuity, header, cap, truncation
  uint64_t psi_errors = 0;        // PAT/PMT sections with a bad CRC, syntax or length
  uint64_t pmt_changes = 0;       // PMTs that changed the selected streams after the first
  uint64_t es_errors = 0;         // bad ADTS sync, unparseable SPS, bad HEVC NAL header, ...
  // Video parameter sets the relay cannot use (an SPS that does not parse, a record that
  // cannot be built), each distinct set counted once; config_error() says why.
  uint64_t config_errors = 0;
  uint64_t video_frames = 0;      // packets emitted
  uint64_t audio_frames = 0;
  uint64_t dropped_frames = 0;    // complete frames not emitted (before a keyframe, etc.)
};

struct TsDemuxEvent {
  enum class Type : uint8_t { tracks, packet };
  Type type = Type::packet;
  TrackSet tracks;  // Type::tracks: the full set now in force
  Packet packet;    // Type::packet
  // Input byte offset just past the last TS packet that carried this packet's bytes.
  uint64_t input_offset = 0;
};

class TsDemuxer {
 public:
  explicit TsDemuxer(TsDemuxerLimits limits = {});
  ~TsDemuxer();
  TsDemuxer(const TsDemuxer&) = delete;
  TsDemuxer& operator=(const TsDemuxer&) = delete;

  // Any split of the input gives the same events. Events are appended to `out`.
  void feed(std::span<const uint8_t> bytes, std::vector<TsDemuxEvent>& out);
  // End of input: completes the PES packets still open (video PES are usually
  // unbounded and end only when the next one starts) and releases held-back packets.
  void finish(std::vector<TsDemuxEvent>& out);

  const TsDemuxerStats& stats() const;
  // The TrackSet last announced (empty before the first).
  const TrackSet& tracks() const;
  // Why the latest unusable video parameter sets could not be used (see
  // TsDemuxerStats::config_errors); empty while none failed. Video that never had a
  // usable configuration is held back, and left out once the wait for it runs out; video
  // that had one keeps it.
  const std::string& config_error() const;

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace anchorcast
