#include "relay/egress/hls/hls_packager.hpp"

#include <algorithm>
#include <mutex>
#include <optional>
#include <vector>

#include "anchorcast/core/log.hpp"
#include "relay/egress/hls/media_playlist.hpp"
#include "relay/egress/hls/overlay_date_ranges.hpp"
#include "relay/protocol/fmp4/in_band_parameter_sets.hpp"
#include "relay/protocol/fmp4/init_segment.hpp"
#include "relay/protocol/fmp4/media_segment.hpp"
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
  void on_packet(const PacketPtr& packet);
  bool carries(MediaKind kind) const;
  void set_fmp4_tracks();
  Result<std::optional<fmp4::TrackConfig>> video_config_for_keyframe(const Packet& keyframe) const;
  void build_init();
  void write_fmp4_segment(int64_t end_us, HlsSegment& segment);
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
  // HEVC goes out as fMP4 (RFC 8216 §3.3), the only container Apple's HLS authoring
  // spec allows HEVC in (and `hvc1` its only sample entry); H.264 stays in MPEG-TS.
  // Once a session was fMP4 the packager stays with it: an EXT-X-MAP applies to every
  // later segment of the playlist, so TS segments cannot follow while fMP4 ones are
  // listed; fMP4 carries H.264 (avc1) as well.
  bool fmp4 = false;
  bool fmp4_wants_video = false;  // the session's video can go in; its config may wait for a keyframe
  std::optional<fmp4::TrackConfig> fmp4_video;
  std::optional<fmp4::TrackConfig> fmp4_audio;
  std::vector<uint8_t> video_record;  // the avcC/hvcC the current fmp4_video was made from
  bool warned_video_config = false;   // once per session
  bool init_stale = true;             // the tracks changed: the next segment needs a new init
  uint64_t next_init_id = 0;
  std::shared_ptr<const HlsInitSection> init;          // the newest init
  std::shared_ptr<const HlsInitSection> segment_init;  // the open segment's
  std::vector<PacketPtr> fragment_video;  // the open segment's samples (moof comes before mdat)
  std::vector<PacketPtr> fragment_audio;
  struct Event {
    int64_t pts_ms;
    uint64_t version;
    std::vector<uint8_t> id3;
  };
  std::vector<Event> segment_events;  // the open segment's cues, as emsg boxes
  // The newest cue as an ID3 tag: written into the segment at the cue's pts, and again
  // at the start of every later segment so a player joining there gets the state. The
  // segments have an ID3 stream only while there is one (ffprobe warns about a stream
  // with no packets).
  std::vector<uint8_t> cue_id3;
  uint64_t cue_version = 0;
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
      if (event.packet) s.on_packet(event.packet);
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
  if (tracks->video && tracks->video->codec == Codec::hevc) fmp4 = true;
  if (fmp4)
    set_fmp4_tracks();
  else
    (void)muxer.set_tracks(*tracks);  // a track it cannot carry is left out of the segments
  anchored = false;
  last_frame_us = 0;
}

bool HlsPackager::State::carries(MediaKind kind) const {
  if (fmp4) return kind == MediaKind::video ? fmp4_wants_video : fmp4_audio.has_value();
  return kind == MediaKind::video ? muxer.has_video() : muxer.has_audio();
}

void HlsPackager::State::set_fmp4_tracks() {
  fmp4_video.reset();
  fmp4_audio.reset();
  fmp4_wants_video = false;
  video_record.clear();
  warned_video_config = false;
  init_stale = true;
  if (tracks->video && (tracks->video->codec == Codec::hevc || tracks->video->codec == Codec::h264)) {
    fmp4_wants_video = true;
    video_record = tracks->video->decoder_config;
    // A TS publisher sends no record: the sample entry waits for a keyframe's parameter
    // sets (video_config_for_keyframe).
    if (!video_record.empty()) {
      auto video = fmp4::make_video_track(*tracks->video);
      if (video) {
        fmp4_video = std::move(*video);
      } else {
        log::warn("hls: ", video.error().message, "; waiting for a keyframe with usable parameter sets");
        warned_video_config = true;
      }
    }
  }
  if (tracks->audio) {
    auto audio = fmp4::make_audio_track(*tracks->audio);
    if (audio)
      fmp4_audio = std::move(*audio);
    else
      log::warn("hls: ", audio.error().message, "; audio left out of the fMP4 segments");
  }
}

// nullopt: the keyframe fits the current sample entry.
Result<std::optional<fmp4::TrackConfig>> HlsPackager::State::video_config_for_keyframe(const Packet& keyframe) const {
  if (keyframe.codec != tracks->video->codec) return make_error("a video packet of another codec than the track's");
  auto record = fmp4::decoder_config_for_keyframe(keyframe.codec, video_record, keyframe.bytes());
  if (!record) return record.error();
  if (!*record) return std::optional<fmp4::TrackConfig>();
  VideoTrack video = *tracks->video;
  video.decoder_config = std::move(**record);
  auto config = fmp4::make_video_track(video);
  if (!config) return config.error();
  return std::optional<fmp4::TrackConfig>(std::move(*config));
}

void HlsPackager::State::on_packet(const PacketPtr& ptr) {
  const Packet& packet = *ptr;
  if (!tracks) return;
  const bool is_video = packet.kind == MediaKind::video;
  if (!carries(packet.kind)) return;
  const int64_t t = packet.dts_in(kMicros);
  if (fmp4) {
    std::optional<fmp4::TrackConfig> next_video;
    if (is_video && packet.keyframe) {
      auto next = video_config_for_keyframe(packet);
      if (!next) {
        if (!warned_video_config)
          log::warn("hls: keyframe skipped: ", next.error().message, " (once per session)");
        warned_video_config = true;
        return;
      }
      next_video = std::move(*next);
    }
    if (next_video) {
      // New parameter sets: a new init, and new encoding parameters are a discontinuity
      // (RFC 8216 §4.3.2.3). The segment in progress ends with the old ones.
      if (open) close_segment(t);
      video_record = next_video->decoder_config;
      fmp4_video = std::move(next_video);
      init_stale = true;
      if (any_segment_started) pending_discontinuity = true;
    }
    const auto& track = is_video ? fmp4_video : fmp4_audio;
    if (!track || !fmp4::check_sample(*track, packet)) return;  // no sample entry yet, or a malformed packet
    const auto& fragment = is_video ? fragment_video : fragment_audio;
    if (open && !fragment.empty() && t < fragment.back()->dts_in(kMicros)) return;  // decode times only go forward
  }
  const bool video_cuts = carries(MediaKind::video);
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
  if (fmp4)
    (is_video ? fragment_video : fragment_audio).push_back(ptr);
  else
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
  if (fmp4) {
    if (init_stale) build_init();
    segment_init = init;
    fragment_video.clear();
    fragment_audio.clear();
    segment_events.clear();
    // The newest cue again, so a player joining here gets the state (as in TS below).
    if (!cue_id3.empty()) segment_events.push_back({t_us / 1000, cue_version, cue_id3});
    return;
  }
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
  if (fmp4) {
    write_fmp4_segment(end_us, segment);
    if (!segment.init) return;
  }
  segment.data = std::make_shared<const std::string>(buffer.begin(), buffer.end());
  std::lock_guard lock(mutex);
  playlist.add(std::move(segment));
  if (auto start = playlist.window_start()) date_ranges.trim(*start);
  publish_locked();
}

void HlsPackager::State::build_init() {
  std::vector<fmp4::TrackConfig> list;
  if (fmp4_video) list.push_back(*fmp4_video);
  if (fmp4_audio) list.push_back(*fmp4_audio);
  std::vector<uint8_t> bytes;
  fmp4::write_init_segment(list, bytes);
  init = std::make_shared<const HlsInitSection>(
      HlsInitSection{next_init_id++, std::make_shared<const std::string>(bytes.begin(), bytes.end())});
  init_stale = false;
}

// The open segment's samples and cues into `buffer`; `segment.init` stays nullptr when
// they cannot be written.
void HlsPackager::State::write_fmp4_segment(int64_t end_us, HlsSegment& segment) {
  const bool video_cuts = carries(MediaKind::video);
  const fmp4::TrackFragment fragments[] = {
      {fmp4_video ? &*fmp4_video : nullptr, fragment_video,
       video_cuts ? std::optional<int64_t>(end_us) : std::nullopt},
      {fmp4_audio ? &*fmp4_audio : nullptr, fragment_audio,
       video_cuts ? std::nullopt : std::optional<int64_t>(end_us)},
  };
  std::vector<fmp4::EventMessage> events;
  for (const auto& e : segment_events)
    events.push_back({.scheme_id_uri = fmp4::kId3EventScheme,
                      .value = "",
                      .timescale = 1000,
                      .presentation_time = static_cast<uint64_t>(std::max<int64_t>(0, e.pts_ms)),
                      // The cue's version: a repeat of a cue a player already has is the same event.
                      .id = static_cast<uint32_t>(e.version),
                      .message_data = e.id3});
  buffer.clear();
  // mfhd sequence numbers start at 1 (ISO/IEC 14496-12 §8.8.5); the media sequence from 0.
  auto written = fmp4::write_media_segment(static_cast<uint32_t>(playlist.next_sequence() + 1), fragments, events,
                                           buffer);
  if (!written) {
    log::warn("hls: fMP4 segment dropped: ", written.error().message);
    return;
  }
  segment.init = segment_init;
}

void HlsPackager::State::on_cue(const CuePtr& cue) {
  // Timed metadata for Safari and hls.js (FRAG_PARSING_METADATA): the cue JSON in a TXXX
  // frame. A cue too big for one PES even without inline images is left out of the
  // segments; the playlist's date ranges still carry it.
  auto tag = id3::build_txxx_tag("anchorcast", compact_cue_json(cue->json), mpegts::kMaxTimedMetadataSize);
  if (tag) {
    cue_id3 = std::move(*tag);
    cue_version = cue->version;
    if (open && fmp4) {
      segment_events.push_back({cue->pts_ms, cue->version, cue_id3});
    } else if (open) {
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
  const auto file = parse_hls_file_name(name);
  if (!file) return nullptr;
  std::lock_guard lock(state_->mutex);
  switch (file->kind) {
    case HlsFileName::Kind::init_section:
      return state_->playlist.find_init(file->number);
    case HlsFileName::Kind::fmp4_segment:
      return state_->playlist.find(file->number, true);
    case HlsFileName::Kind::ts_segment:
      break;
  }
  return state_->playlist.find(file->number, false);
}

bool HlsPackager::has_media() const {
  std::lock_guard lock(state_->mutex);
  return !state_->playlist.empty();
}

}  // namespace anchorcast
