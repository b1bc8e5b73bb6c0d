// A media segment of a fragmented MP4 (ISO/IEC 14496-12 §8.16; an HLS fMP4 segment, RFC
// 8216bis §3.1.2): `styp`, any `emsg` (§ "DASHEventMessageBox", ISO/IEC 23009-1 §5.10.3.3;
// CMAF puts them before the `moof`), one `moof` with a `traf` per track (tfhd
// default-base-is-moof, tfdt, trun with each sample's duration, size, flags and, when
// pts != dts, signed composition offsets), and one `mdat` with the tracks' samples in
// turn. Sample times are the packets' own in the track's timescale, so the media time
// of a segment is the hub's timeline, as in the TS segments.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "anchorcast/core/result.hpp"
#include "anchorcast/media/packet.hpp"
#include "relay/protocol/fmp4/track_config.hpp"

namespace anchorcast::fmp4 {

// AOM "Carriage of ID3 Timed Metadata in CMAF": an emsg with this scheme carries one
// ID3 tag (hls.js reads it as it reads ID3 in TS).
inline constexpr std::string_view kId3EventScheme = "https://aomedia.org/emsg/ID3";

// One track's samples for the fragment.
struct TrackFragment {
  const TrackConfig* track = nullptr;
  std::span<const PacketPtr> packets;  // this track's, in decode order
  // When the track's next sample starts, on the hub timeline in µs: the last sample lasts
  // until then. Without it the last sample lasts as long as the one before it, or the
  // track's default for a lone sample.
  std::optional<int64_t> end_us;
};

// An emsg, version 1 (a presentation time, not an offset from the segment).
struct EventMessage {
  std::string_view scheme_id_uri;
  std::string_view value;
  uint32_t timescale = 1000;
  uint64_t presentation_time = 0;
  uint32_t event_duration = 0xFFFFFFFF;  // unknown
  uint32_t id = 0;
  std::span<const uint8_t> message_data;
};

// Whether `packet` can be a sample of `track`: its kind and codec, a decode time that is
// not negative (tfdt is unsigned), a video access unit of valid 4-byte-length NAL units,
// a non-empty audio frame.
Status check_sample(const TrackConfig& track, const Packet& packet);

// Appends the segment. Fails, appending nothing, when a sample fails check_sample(), a
// track's decode times go backwards, a composition offset exceeds 32 bits or the
// media data exceeds 4 GiB. `sequence_number` is the mfhd's (§8.8.5: increasing, from 1).
Status write_media_segment(uint32_t sequence_number, std::span<const TrackFragment> fragments,
                           std::span<const EventMessage> events, std::vector<uint8_t>& out);

}  // namespace anchorcast::fmp4
