#include "relay/egress/hls/hls_packager.hpp"

#include <mutex>
#include <vector>

#include "anchorcast/core/log.hpp"
#include "relay/egress/hls/media_playlist.hpp"
#include "relay/egress/hls/overlay_date_ranges.hpp"
#include "relay/protocol/id3/id3_tag.hpp"
#include "relay/protocol/mpegts/ts_muxer.hpp"

namespace anchorcast {

struct HlsPackager::State {
  State(HlsConfig c, WallClock clock)
      : config(c),
        wall_clock(clock ? std::move(clock) : [] { return std::chrono::system_clock::now(); }),
        target_us(int64_t{std::max(100, config.target_duration_ms)} * 1000),
        playlist(config.window_segments, static_cast<int>((std::max(100, config.target_duration_ms) + 999) / 1000)) {}

  void on_tracks(const MediaEvent& event);
  void on_packet(const Packet& packet);
  void open_segment(int64_t t_us);
  void close_segment(int64_t end_us);
  void close_segment_at_last_packet();
  void on_cue(const CuePtr& cue);
  void apply_cue_to_ranges(const Cue& cue);
  void publish_locked();

  const HlsConfig config;
  const WallClock wall_clock;
  const int64_t target_us;

  // Feeding thread only.
  mpegts::TsMuxer muxer;
  // The newest cue as an ID3 tag: written into the segment at the cue's pts, and again
  // at the start of every later segment so a player joining there gets the state. The
  // segments have an ID3 stream only while there is one (ffprobe warns about a stream
  // with no packets).
  std::vector<uint8_t> cue_id3;
  bool warned_cue_size = false;
  TrackSetPtr tracks;
  bool any_segment_started = false;
  bool pending_discontinuity = false;
  bool open = false;
  std::vector<uint8_t> buffer;  // the segment being written; capacity reused
  int64_t segment_start_us = 0;
  bool segment_discontinuity = false;
  std::chrono::system_clock::time_point segment_wall;
  int64_t last_us = 0;             // dts of the latest packet of the cutting track
  int64_t last_frame_us = 0;       // its distance to the one before: a frame duration
  bool anchored = false;           // wall clock anchor for PROGRAM-DATE-TIME
  std::chrono::system_clock::time_point anchor_wall;
  int64_t anchor_us = 0;
  CuePtr unplaced_cue;  // arrived before a wall-clock anchor existed: placed at the next

  // Shared with readers.
  mutable std::mutex mutex;
  MediaPlaylist playlist;
  OverlayDateRanges date_ranges;
  std::string rendered;
};

HlsPackager::HlsPackager(HlsConfig config, WallClock wall_clock)
    : state_(std::make_unique<State>(config, std::move(wall_clock))) {}

HlsPackager::~HlsPackager() = default;

void HlsPackager::on_event(const MediaEvent& event) {
  State& s = *state_;
  switch (event.type) {
    case MediaEvent::Type::tracks:
      if (event.tracks) s.on_tracks(event);
      break;
    case MediaEvent::Type::packet:
      if (event.packet) s.on_packet(*event.packet);
      break;
    case MediaEvent::Type::publisher_gone:
      // The stream may come back; what we have is a complete segment now.
      s.close_segment_at_last_packet();
      break;
    case MediaEvent::Type::cue:
      if (event.cue) s.on_cue(event.cue);
      break;
    case MediaEvent::Type::stream_closed: {
      s.close_segment_at_last_packet();
      std::lock_guard lock(s.mutex);
      s.playlist.end();
      s.publish_locked();
      break;
    }
  }
}

void HlsPackager::State::on_tracks(const MediaEvent& event) {
  const bool changed = !tracks || *tracks != *event.tracks;
  if (!event.new_session && !changed) return;  // a repeat of what we have
  // RFC 8216 §4.3.2.3: a new publisher (timestamps, encoder) or new codec parameters
  // are a discontinuity; the segment in progress ends here.
  close_segment_at_last_packet();
  if (any_segment_started) pending_discontinuity = true;
  tracks = event.tracks;
  (void)muxer.set_tracks(*tracks);  // a track it cannot carry is left out of the segments
  anchored = false;
  last_frame_us = 0;
}

void HlsPackager::State::on_packet(const Packet& packet) {
  if (!tracks) return;
  const bool video_cuts = muxer.has_video();
  const bool is_video = packet.kind == MediaKind::video;
  if (is_video ? !muxer.has_video() : !muxer.has_audio()) return;
  const int64_t t = packet.dts_in(kMicros);
  const bool cutting_track = is_video == video_cuts;
  if (cutting_track) {
    // A segment starts on a keyframe (audio frames all are), so a player can start
    // with any segment; it ends at the first one past the target duration.
    const bool can_start = packet.keyframe;
    if (can_start && open && t - segment_start_us >= target_us) close_segment(t);
    if (can_start && !open) open_segment(t);
    if (open && t > last_us) last_frame_us = t - last_us;
    if (open) last_us = t;
  }
  if (!open) return;  // before the first keyframe
  (void)muxer.write_packet(packet, buffer);  // a malformed packet is skipped
}

void HlsPackager::State::open_segment(int64_t t_us) {
  if (!anchored) {
    anchored = true;
    anchor_wall = wall_clock();
    anchor_us = t_us;
    if (unplaced_cue) {
      apply_cue_to_ranges(*unplaced_cue);
      unplaced_cue.reset();
    }
  }
  open = true;
  any_segment_started = true;
  segment_start_us = t_us;
  last_us = t_us;
  segment_discontinuity = pending_discontinuity;
  pending_discontinuity = false;
  segment_wall = anchor_wall + std::chrono::microseconds(t_us - anchor_us);
  buffer.clear();
  muxer.set_timed_metadata(!cue_id3.empty());
  muxer.write_tables(buffer);  // every segment starts with PAT/PMT (RFC 8216 §3.2)
  if (!cue_id3.empty()) (void)muxer.write_timed_metadata(t_us * 90 / 1000, cue_id3, buffer);
}

void HlsPackager::State::close_segment(int64_t end_us) {
  if (!open) return;
  open = false;
  const int64_t duration = end_us - segment_start_us;
  if (duration <= 0) return;  // a lone frame with no known duration: nothing playable
  HlsSegment segment;
  segment.duration_us = duration;
  segment.discontinuity = segment_discontinuity;
  segment.program_date_time = segment_wall;
  segment.data = std::make_shared<const std::string>(buffer.begin(), buffer.end());
  std::lock_guard lock(mutex);
  playlist.add(std::move(segment));
  if (auto start = playlist.window_start()) date_ranges.trim(*start);
  publish_locked();
}

void HlsPackager::State::on_cue(const CuePtr& cue) {
  // Timed metadata for Safari and hls.js (FRAG_PARSING_METADATA): the cue JSON in a TXXX
  // frame. A cue too big for one PES even without inline images is left out of the
  // segments; the playlist's date ranges still carry it.
  auto tag = id3::build_txxx_tag("anchorcast", compact_cue_json(cue->json), mpegts::kMaxTimedMetadataSize);
  if (tag) {
    cue_id3 = std::move(*tag);
    if (open) {
      if (!muxer.timed_metadata()) {
        // The first cue: a new PMT (H.222.0 §2.4.4.9 allows one mid-stream) adds the
        // ID3 stream right here.
        muxer.set_timed_metadata(true);
        muxer.write_tables(buffer);
      }
      (void)muxer.write_timed_metadata(cue->pts_ms * 90, cue_id3, buffer);
    }
  } else {
    if (!cue_id3.empty() || !warned_cue_size) {
      log::warn("hls: cue version ", cue->version, " does not fit one TS PES (", tag.error().message,
                "); segments carry no ID3 until a smaller cue, the playlist's DATERANGEs still do");
      warned_cue_size = true;
    }
    cue_id3.clear();
  }
  if (!anchored) {
    // Its date needs the pts -> wall clock mapping the next segment sets up.
    unplaced_cue = cue;
    return;
  }
  apply_cue_to_ranges(*cue);
}

void HlsPackager::State::apply_cue_to_ranges(const Cue& cue) {
  // The same mapping as EXT-X-PROGRAM-DATE-TIME, so a player that maps segment dates to
  // media time finds the range start at the cue's pts.
  const auto at = anchor_wall + std::chrono::microseconds(cue.pts_ms * 1000 - anchor_us);
  std::lock_guard lock(mutex);
  if (!date_ranges.apply_cue(cue.json, cue.version, at).ok()) return;  // not an overlay cue: nothing to list
  if (!playlist.empty()) publish_locked();
}

void HlsPackager::State::publish_locked() { rendered = playlist.render(date_ranges.render()); }

void HlsPackager::State::close_segment_at_last_packet() {
  // The last frame lasts about as long as the one before it.
  close_segment(last_us + last_frame_us);
}

std::optional<std::string> HlsPackager::playlist() const {
  std::lock_guard lock(state_->mutex);
  if (state_->playlist.empty()) return std::nullopt;
  return state_->rendered;
}

std::shared_ptr<const std::string> HlsPackager::segment(std::string_view name) const {
  uint64_t sequence = 0;
  if (!parse_hls_segment_name(name, sequence)) return nullptr;
  std::lock_guard lock(state_->mutex);
  return state_->playlist.find(sequence);
}

bool HlsPackager::has_media() const {
  std::lock_guard lock(state_->mutex);
  return !state_->playlist.empty();
}

}  // namespace anchorcast
