#include "relay/protocol/mpegts/ts_demuxer.hpp"

#include <algorithm>
#include <optional>
#include <string>
#include <unordered_map>

#include "relay/protocol/aac/adts.hpp"
#include "relay/protocol/aac/audio_specific_config.hpp"
#include "relay/protocol/h264/avc_decoder_config.hpp"
#include "relay/protocol/h264/nal_unit.hpp"
#include "relay/protocol/h264/sps.hpp"
#include "relay/protocol/hevc/hevc_decoder_config.hpp"
#include "relay/protocol/hevc/nal_unit.hpp"
#include "relay/protocol/hevc/sps.hpp"
#include "relay/protocol/mpegts/crc32.hpp"
#include "relay/protocol/mpegts/pes_assembler.hpp"

namespace anchorcast {

namespace {

constexpr uint8_t kSyncByte = 0x47;
constexpr uint16_t kPatPid = 0x0000;
constexpr uint16_t kNullPid = 0x1FFF;
// H.222.0 Table 2-3: PIDs 0x0002..0x000F are reserved, 0x0010 and up are free for PMTs
// and elementary streams.
constexpr uint16_t kFirstAssignablePid = 0x0010;

// H.222.0 Table 2-34 stream_type values (0x24 from H.222.0 Amd. 3).
constexpr uint8_t kStreamTypeAdtsAac = 0x0F;
constexpr uint8_t kStreamTypeH264 = 0x1B;
constexpr uint8_t kStreamTypeHevc = 0x24;

constexpr uint8_t kTablePat = 0x00;  // Table 2-31 table_id
constexpr uint8_t kTablePmt = 0x02;
// §2.4.4.3 / §2.4.4.8: section_length of a PAT or PMT is at most 1021 (0x3FD), so a
// whole section is at most 1024 bytes.
constexpr size_t kMaxSectionSize = 1024;

constexpr int64_t k33Bits = int64_t{1} << 33;
constexpr int64_t k32Bits = int64_t{1} << 32;
constexpr int64_t kDefaultFrameDuration90k = 3000;  // 30 fps, until the stream tells

struct EsInfo {
  uint16_t pid = 0;
  uint8_t stream_type = 0;
  friend bool operator==(const EsInfo&, const EsInfo&) = default;
};

// PSI sections (§2.4.4) of one PID, reassembled across TS packets. A section starts
// where pointer_field says in a packet with payload_unit_start_indicator set, may span
// packets, and may be followed by more sections or by 0xFF stuffing.
class SectionAssembler {
 public:
  // on_section(std::span<const uint8_t>) gets each complete section; malformed input
  // bumps `errors`.
  template <class F>
  void push(std::span<const uint8_t> payload, bool unit_start, uint64_t& errors, F&& on_section) {
    if (!unit_start) {
      if (!collecting_) return;
      buffer_.insert(buffer_.end(), payload.begin(), payload.end());
      take_complete(errors, on_section);  // what follows a section here is stuffing
      return;
    }
    if (payload.empty()) {
      ++errors;
      abort();
      return;
    }
    const size_t pointer = payload[0];  // §2.4.4.2 pointer_field
    std::span<const uint8_t> rest = payload.subspan(1);
    if (pointer > rest.size()) {
      ++errors;
      abort();
      return;
    }
    if (collecting_) {
      // The bytes before the pointed-to start finish the section in progress.
      buffer_.insert(buffer_.end(), rest.begin(), rest.begin() + static_cast<std::ptrdiff_t>(pointer));
      if (!take_complete(errors, on_section)) {
        ++errors;  // a new section starts before the old one ended
        abort();
      }
    }
    size_t pos = pointer;
    while (pos < rest.size() && rest[pos] != 0xFF) {  // 0xFF: stuffing up to the end
      buffer_.assign(rest.begin() + static_cast<std::ptrdiff_t>(pos), rest.end());
      collecting_ = true;
      const size_t before = buffer_.size();
      size_t used = 0;
      if (!take_complete(errors, on_section, &used)) break;  // continues in later packets
      if (used == 0 || used > before) break;
      pos += used;
    }
  }

  void abort() {
    collecting_ = false;
    buffer_.clear();
  }

 private:
  // Emits the section at the start of buffer_ when it is complete (true); `used` gets
  // its size. False when more bytes are needed or the section was bad (then dropped).
  template <class F>
  bool take_complete(uint64_t& errors, F& on_section, size_t* used = nullptr) {
    if (!collecting_) return false;
    if (buffer_.size() < 3) return false;
    const size_t total = 3 + (((size_t{buffer_[1]} & 0x0F) << 8) | buffer_[2]);
    if (total > kMaxSectionSize) {
      ++errors;
      abort();
      return false;
    }
    if (buffer_.size() < total) return false;
    on_section(std::span<const uint8_t>(buffer_.data(), total));
    if (used) *used = total;
    abort();
    return true;
  }

  std::vector<uint8_t> buffer_;
  bool collecting_ = false;
};

// Checks the fields every long-form section shares (§2.4.4.3 Table 2-30, §2.4.4.8
// Table 2-33): syntax indicator, a length that holds header and CRC, the CRC itself.
bool section_is_valid(std::span<const uint8_t> s, uint8_t table_id) {
  if (s.size() < 12 || s[0] != table_id) return false;
  if ((s[1] & 0x80) == 0) return false;  // section_syntax_indicator
  return mpegts::crc32_mpeg2(s) == 0;  // Annex A: zero over the whole section
}

enum class Continuity { ok, duplicate, error };

}  // namespace

struct TsDemuxer::State {
  struct VideoState {
    VideoState(EsInfo info, size_t max_pes) : es(info), pes(max_pes) {}
    EsInfo es;
    PesAssembler pes;
    // Last seen in band, and what `track` was built from (or last tried). The VPS only
    // for HEVC.
    std::vector<uint8_t> latest_vps, latest_sps, latest_pps;
    std::vector<uint8_t> config_vps, config_sps, config_pps;
    std::optional<VideoTrack> track;
    bool need_keyframe = true;
    bool have_dts = false;
    int64_t last_dts = 0;
    int64_t frame_duration = kDefaultFrameDuration90k;
  };
  struct AudioState {
    AudioState(EsInfo info, size_t max_pes) : es(info), pes(max_pes) {}
    EsInfo es;
    PesAssembler pes;
    std::optional<AudioTrack> track;
    std::vector<uint8_t> carry;  // an ADTS frame split across PES packets
    bool have_clock = false;
    int64_t clock_base = 0;      // 90 kHz
    int64_t clock_samples = 0;   // samples since clock_base
    uint32_t clock_rate = 0;
  };

  explicit State(TsDemuxerLimits l) : limits(l) {}

  TsDemuxerLimits limits;
  TsDemuxerStats stats;
  uint64_t retired_pes_dropped = 0;

  std::vector<uint8_t> buffer;  // input not yet consumed
  uint64_t buffer_offset = 0;   // input offset of buffer[0]
  bool locked = false;

  std::unordered_map<uint16_t, int> last_cc;  // PIDs we follow only: PAT, PMT, the ES
  SectionAssembler pat_sections;
  SectionAssembler pmt_sections;
  bool have_program = false;
  uint16_t program_number = 0;
  uint16_t pmt_pid = 0;
  bool have_pmt = false;

  std::optional<VideoState> video;
  std::optional<AudioState> audio;

  TrackSet announced;
  bool announced_once = false;
  // Holding packets back until every selected stream has its configuration: at the
  // start, and again after a PMT change, so one TrackSet announces the new streams.
  bool gathering = true;
  std::vector<TsDemuxEvent> pending;

  bool have_ts = false;
  int64_t last_ts = 0;

  std::vector<PesPacket> done;  // scratch, reused
  std::string config_error;

  // --- input framing -------------------------------------------------------------
  void feed(std::span<const uint8_t> bytes, std::vector<TsDemuxEvent>& out);
  void finish(std::vector<TsDemuxEvent>& out);
  void packet(const uint8_t* p, uint64_t end_offset, std::vector<TsDemuxEvent>& out);
  Continuity check_continuity(uint16_t pid, unsigned cc, bool discontinuity);
  void broken(uint16_t pid);

  // --- PSI ----------------------------------------------------------------------
  void on_pat(std::span<const uint8_t> s);
  void on_pmt(std::span<const uint8_t> s, std::vector<TsDemuxEvent>& out);
  void apply_program(std::optional<EsInfo> v, std::optional<EsInfo> a, std::vector<TsDemuxEvent>& out);

  // --- elementary streams -------------------------------------------------------
  int64_t unwrap(uint64_t ts33);
  void on_video_pes(PesPacket& pes, std::vector<TsDemuxEvent>& out);
  void on_audio_pes(PesPacket& pes, std::vector<TsDemuxEvent>& out);
  void update_avc_config();
  void update_hevc_config();
  void config_failed(const std::string& why);

  // --- output -------------------------------------------------------------------
  TrackSet current_tracks(bool* all_ready) const;
  void announce(std::vector<TsDemuxEvent>& out, bool force, uint64_t offset);
  void emit(TsDemuxEvent&& event, std::vector<TsDemuxEvent>& out);
  void sync_stats();
};

// ------------------------------------------------------------------------------------
// Input framing

void TsDemuxer::State::feed(std::span<const uint8_t> bytes, std::vector<TsDemuxEvent>& out) {
  stats.bytes += bytes.size();
  buffer.insert(buffer.end(), bytes.begin(), bytes.end());
  size_t pos = 0;
  const size_t size = buffer.size();
  while (size - pos >= kTsPacketSize) {
    if (locked) {
      if (buffer[pos] == kSyncByte) {
        packet(buffer.data() + pos, buffer_offset + pos + kTsPacketSize, out);
        pos += kTsPacketSize;
        continue;
      }
      locked = false;
      ++stats.sync_losses;
    }
    // Sync acquisition: H.222.0 leaves the method to the decoder (§2.4.3.2 only fixes
    // 0x47); a sync byte with another one 188 bytes later is what demuxers accept
    // (FFmpeg needs several). Deciding only once both bytes are here makes the result
    // independent of how the input was split.
    size_t p = pos;
    bool found = false;
    for (; p + kTsPacketSize < size; ++p) {
      if (buffer[p] == kSyncByte && buffer[p + kTsPacketSize] == kSyncByte) {
        found = true;
        break;
      }
    }
    stats.skipped_bytes += p - pos;
    pos = p;
    if (!found) break;
    locked = true;
  }
  buffer.erase(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(pos));
  buffer_offset += pos;
  sync_stats();
}

void TsDemuxer::State::finish(std::vector<TsDemuxEvent>& out) {
  // The last packet cannot be confirmed by a following sync byte: take it if it starts
  // with one.
  size_t pos = 0;
  while (buffer.size() - pos >= kTsPacketSize) {
    if (buffer[pos] != kSyncByte) {
      ++pos;
      ++stats.skipped_bytes;
      continue;
    }
    packet(buffer.data() + pos, buffer_offset + pos + kTsPacketSize, out);
    pos += kTsPacketSize;
  }
  stats.skipped_bytes += buffer.size() - pos;
  buffer_offset += buffer.size();
  buffer.clear();
  locked = false;

  if (video) {
    done.clear();
    video->pes.flush(done);
    for (auto& pes : done) on_video_pes(pes, out);
  }
  if (audio) {
    done.clear();
    audio->pes.flush(done);
    for (auto& pes : done) on_audio_pes(pes, out);
  }
  if (gathering && !pending.empty()) announce(out, true, buffer_offset);
  sync_stats();
}

Continuity TsDemuxer::State::check_continuity(uint16_t pid, unsigned cc, bool discontinuity) {
  auto [it, inserted] = last_cc.try_emplace(pid, static_cast<int>(cc));
  if (inserted || discontinuity) {
    it->second = static_cast<int>(cc);
    return Continuity::ok;
  }
  const unsigned last = static_cast<unsigned>(it->second);
  // §2.4.3.3: a packet may be sent twice in a row with the same continuity_counter; the
  // repeat carries nothing new.
  if (cc == last) return Continuity::duplicate;
  it->second = static_cast<int>(cc);
  return cc == ((last + 1) & 0x0F) ? Continuity::ok : Continuity::error;
}

void TsDemuxer::State::broken(uint16_t pid) {
  if (video && pid == video->es.pid) {
    video->pes.abort();
    video->need_keyframe = true;  // later frames may reference the lost one
  } else if (audio && pid == audio->es.pid) {
    audio->pes.abort();
    audio->carry.clear();
  } else if (pid == kPatPid) {
    pat_sections.abort();
  } else if (have_program && pid == pmt_pid) {
    pmt_sections.abort();
  }
}

void TsDemuxer::State::packet(const uint8_t* p, uint64_t end_offset, std::vector<TsDemuxEvent>& out) {
  ++stats.ts_packets;
  // §2.4.3.2 Table 2-2.
  const bool transport_error = (p[1] & 0x80) != 0;
  const bool unit_start = (p[1] & 0x40) != 0;
  const uint16_t pid = static_cast<uint16_t>(((p[1] & 0x1F) << 8) | p[2]);
  const unsigned scrambling = p[3] >> 6;
  const unsigned adaptation_field_control = (p[3] >> 4) & 0x03;
  const unsigned cc = p[3] & 0x0F;

  if (pid == kNullPid) return;
  const bool is_video = video && pid == video->es.pid;
  const bool is_audio = audio && pid == audio->es.pid;
  const bool is_pmt = have_program && pid == pmt_pid;
  if (pid != kPatPid && !is_pmt && !is_video && !is_audio) return;

  if (transport_error) {  // at least one uncorrectable bit error in this packet
    ++stats.transport_errors;
    broken(pid);
    return;
  }
  if (adaptation_field_control == 0) return;  // '00' is reserved: discard

  size_t offset = 4;
  bool discontinuity = false;
  if (adaptation_field_control & 0x02) {
    // §2.4.3.4: adaptation_field_length is 183 when there is no payload, 0..182 when
    // one follows.
    const size_t af_length = p[4];
    const size_t max_af = adaptation_field_control == 0x02 ? 183 : 182;
    if (af_length > max_af) {
      ++stats.transport_errors;
      broken(pid);
      return;
    }
    if (af_length > 0) discontinuity = (p[5] & 0x80) != 0;  // discontinuity_indicator
    offset = 5 + af_length;
  }
  if ((adaptation_field_control & 0x01) == 0) return;  // no payload, counter not advanced

  switch (check_continuity(pid, cc, discontinuity)) {
    case Continuity::duplicate:
      return;
    case Continuity::error:
      ++stats.cc_errors;
      broken(pid);  // this packet may still start a new unit: go on
      break;
    case Continuity::ok:
      break;
  }
  if (scrambling != 0) {  // we hold no keys; the content is unusable
    ++stats.scrambled;
    broken(pid);
    return;
  }

  std::span<const uint8_t> payload(p + offset, kTsPacketSize - offset);
  if (pid == kPatPid) {
    pat_sections.push(payload, unit_start, stats.psi_errors, [&](std::span<const uint8_t> s) { on_pat(s); });
  } else if (is_pmt) {
    pmt_sections.push(payload, unit_start, stats.psi_errors, [&](std::span<const uint8_t> s) { on_pmt(s, out); });
  } else if (is_video) {
    done.clear();
    video->pes.push(payload, unit_start, end_offset, done);
    for (auto& pes : done) on_video_pes(pes, out);
  } else if (is_audio) {
    done.clear();
    audio->pes.push(payload, unit_start, end_offset, done);
    for (auto& pes : done) on_audio_pes(pes, out);
  }
}

// ------------------------------------------------------------------------------------
// PSI

void TsDemuxer::State::on_pat(std::span<const uint8_t> s) {
  if (!section_is_valid(s, kTablePat)) {
    ++stats.psi_errors;
    return;
  }
  if ((s[5] & 0x01) == 0) return;  // current_next_indicator 0: not in force yet
  // §2.4.4.3: after the 8-byte header, 4-byte entries up to the CRC_32.
  const size_t end = s.size() - 4;
  if ((end - 8) % 4 != 0) {
    ++stats.psi_errors;
    return;
  }
  for (size_t i = 8; i < end; i += 4) {
    const uint16_t number = static_cast<uint16_t>((s[i] << 8) | s[i + 1]);
    const uint16_t pid = static_cast<uint16_t>(((s[i + 2] & 0x1F) << 8) | s[i + 3]);
    if (number == 0) continue;  // network_PID, not a program
    if (pid < kFirstAssignablePid || pid == kNullPid) {
      ++stats.psi_errors;
      return;
    }
    // The first program is the one we take (an encoder sends one).
    if (!have_program || pid != pmt_pid || number != program_number) {
      if (have_program) {
        last_cc.erase(pmt_pid);
        pmt_sections.abort();
      }
      have_program = true;
      program_number = number;
      pmt_pid = pid;
      have_pmt = false;  // wait for the new PMT; the streams we have keep going until then
    }
    return;
  }
}

void TsDemuxer::State::on_pmt(std::span<const uint8_t> s, std::vector<TsDemuxEvent>& out) {
  if (!section_is_valid(s, kTablePmt)) {
    ++stats.psi_errors;
    return;
  }
  if ((s[5] & 0x01) == 0) return;
  const uint16_t number = static_cast<uint16_t>((s[3] << 8) | s[4]);
  if (number != program_number) return;  // another program's PMT on a shared PID
  // §2.4.4.8 Table 2-33.
  const size_t end = s.size() - 4;
  const size_t program_info_length = ((size_t{s[10]} & 0x0F) << 8) | s[11];
  size_t pos = 12 + program_info_length;
  if (pos > end) {
    ++stats.psi_errors;
    return;
  }
  std::optional<EsInfo> v, a;
  while (pos < end) {
    if (end - pos < 5) {
      ++stats.psi_errors;
      return;
    }
    const uint8_t type = s[pos];
    const uint16_t pid = static_cast<uint16_t>(((s[pos + 1] & 0x1F) << 8) | s[pos + 2]);
    const size_t es_info_length = ((size_t{s[pos + 3]} & 0x0F) << 8) | s[pos + 4];
    pos += 5;
    if (es_info_length > end - pos) {
      ++stats.psi_errors;
      return;
    }
    pos += es_info_length;
    if (pid < kFirstAssignablePid || pid == kNullPid || pid == pmt_pid) continue;
    if (!v && (type == kStreamTypeH264 || type == kStreamTypeHevc)) v = EsInfo{pid, type};
    if (!a && type == kStreamTypeAdtsAac) a = EsInfo{pid, type};
  }
  if (v && a && v->pid == a->pid) a.reset();
  apply_program(v, a, out);
}

void TsDemuxer::State::apply_program(std::optional<EsInfo> v, std::optional<EsInfo> a,
                                     std::vector<TsDemuxEvent>& out) {
  const bool first = !have_pmt && !video && !audio;
  auto same = [](const EsInfo* current, const std::optional<EsInfo>& next) {
    return current && next ? *current == *next : !current && !next;
  };
  const bool video_changed = !same(video ? &video->es : nullptr, v);
  const bool audio_changed = !same(audio ? &audio->es : nullptr, a);
  // A stream ends with the PMT that drops it: its last (unbounded) PES is whole.
  if (video_changed && video) {
    done.clear();
    video->pes.flush(done);
    for (auto& pes : done) on_video_pes(pes, out);
  }
  if (audio_changed && audio) {
    done.clear();
    audio->pes.flush(done);
    for (auto& pes : done) on_audio_pes(pes, out);
  }
  // Packets still held back (a stream the old PMT announced never became ready) belong
  // to the streams in force until now: announce what of those is ready, so none of them
  // is released later under the new streams' TrackSet (an H.264 frame under an HEVC
  // track, a 320x240 one under a 160x120 record).
  if ((video_changed || audio_changed) && gathering && !pending.empty()) announce(out, true, buffer_offset);
  if (video_changed) {
    if (video) {
      retired_pes_dropped += video->pes.stats().dropped;
      last_cc.erase(video->es.pid);
    }
    video.reset();
    if (v) video.emplace(*v, limits.max_video_pes_bytes);
  }
  if (audio_changed) {
    if (audio) {
      retired_pes_dropped += audio->pes.stats().dropped;
      last_cc.erase(audio->es.pid);
    }
    audio.reset();
    if (a) audio.emplace(*a, limits.max_audio_pes_bytes);
  }
  have_pmt = true;
  if ((video_changed || audio_changed) && !first) {
    ++stats.pmt_changes;
    gathering = true;
    announce(out, false, buffer_offset);  // a stream removed: nothing to wait for
  }
}

// ------------------------------------------------------------------------------------
// Elementary streams

int64_t TsDemuxer::State::unwrap(uint64_t ts33) {
  const int64_t raw = static_cast<int64_t>(ts33 & (k33Bits - 1));
  if (!have_ts) {
    have_ts = true;
    last_ts = raw;
    return raw;
  }
  // §2.4.3.7: PTS/DTS are 33-bit counters that wrap every 26.5 hours. The nearest
  // value to the last one seen (within ±2^32 ticks, 13 hours) is the right one.
  const int64_t prev = ((last_ts % k33Bits) + k33Bits) % k33Bits;
  int64_t delta = raw - prev;
  if (delta >= k32Bits) delta -= k33Bits;
  else if (delta < -k32Bits) delta += k33Bits;
  last_ts += delta;
  return last_ts;
}

void TsDemuxer::State::config_failed(const std::string& why) {
  ++stats.config_errors;
  config_error = why;
}

void TsDemuxer::State::update_avc_config() {
  auto& v = *video;
  if (v.latest_sps.empty() || v.latest_pps.empty()) return;
  if (v.track && v.latest_sps == v.config_sps && v.latest_pps == v.config_pps) return;
  const bool new_attempt = v.latest_sps != v.config_sps || v.latest_pps != v.config_pps;
  auto record = h264::build_avc_decoder_config(v.latest_sps, v.latest_pps);
  auto sps = h264::parse_sps(v.latest_sps);
  // Remember what was tried either way, so a bad SPS is not re-parsed every frame.
  v.config_sps = v.latest_sps;
  v.config_pps = v.latest_pps;
  if (!record || !sps) {
    ++stats.es_errors;
    if (new_attempt) config_failed("H.264 parameter sets unusable: " + (sps ? record.error() : sps.error()).message);
    return;
  }
  VideoTrack t;
  t.codec = Codec::h264;
  t.width = sps->width;
  t.height = sps->height;
  t.fps = sps->fps;
  t.decoder_config = std::move(record.value());
  v.track = std::move(t);
}

void TsDemuxer::State::update_hevc_config() {
  auto& v = *video;
  if (v.latest_vps.empty() || v.latest_sps.empty() || v.latest_pps.empty()) return;
  // Encoders repeat their parameter sets before every IRAP: only a change is work.
  if (v.latest_vps == v.config_vps && v.latest_sps == v.config_sps && v.latest_pps == v.config_pps) return;
  // Remember what was tried either way, so a bad SPS is neither re-parsed nor counted
  // every frame.
  v.config_vps = v.latest_vps;
  v.config_sps = v.latest_sps;
  v.config_pps = v.latest_pps;
  auto sps = hevc::parse_sps(v.latest_sps);
  if (!sps) {
    ++stats.es_errors;
    config_failed("HEVC parameter sets unusable: " + sps.error().message);
    return;
  }
  auto record = hevc::build_hevc_decoder_config(v.latest_vps, v.latest_sps, v.latest_pps);
  if (!record) {
    ++stats.es_errors;
    config_failed("HEVC parameter sets unusable: " + record.error().message);
    return;
  }
  VideoTrack t;
  t.codec = Codec::hevc;
  t.width = sps->width;
  t.height = sps->height;
  // fps stays 0 (unknown): the frame rate is in the SPS's VUI, past what hevc::parse_sps
  // reads.
  t.decoder_config = std::move(record.value());
  v.track = std::move(t);
}

void TsDemuxer::State::on_video_pes(PesPacket& pes, std::vector<TsDemuxEvent>& out) {
  auto& v = *video;
  int64_t dts, pts;
  if (pes.has_pts) {
    pts = unwrap(pes.pts);
    dts = pes.has_dts ? unwrap(pes.dts) : pts;
  } else if (v.have_dts) {
    // §2.7.4: a PTS is only required every 0.7 s; in between, one frame per PES.
    dts = pts = v.last_dts + v.frame_duration;
  } else {
    ++stats.dropped_frames;  // nothing to place it on the timeline
    return;
  }
  if (v.have_dts && dts > v.last_dts && dts - v.last_dts <= 90000) v.frame_duration = dts - v.last_dts;
  v.have_dts = true;
  v.last_dts = dts;

  Packet packet;
  packet.kind = MediaKind::video;
  packet.time_base = k90kHz;
  packet.dts = dts;
  packet.pts = pts;
  packet.payload.reserve(pes.payload.size() + 16);
  bool has_vcl = false;
  auto append = [&](std::span<const uint8_t> nal) {
    const size_t n = nal.size();
    packet.payload.push_back(static_cast<uint8_t>(n >> 24));
    packet.payload.push_back(static_cast<uint8_t>(n >> 16));
    packet.payload.push_back(static_cast<uint8_t>(n >> 8));
    packet.payload.push_back(static_cast<uint8_t>(n));
    packet.payload.insert(packet.payload.end(), nal.begin(), nal.end());
  };

  // One PES is one access unit: what encoders send, and what H.222.0 §2.14.3.1 suggests
  // with a PTS per AVC access unit.
  if (v.es.stream_type == kStreamTypeH264) {
    packet.codec = Codec::h264;
    h264::for_each_annexb_nal(pes.payload, [&](std::span<const uint8_t> nal) {
      switch (h264::nal_type(nal[0])) {
        case h264::NalType::aud:            // AVCC framing needs no delimiters
        case h264::NalType::filler:         // padding for CBR links, useless past here
        case h264::NalType::sps_extension:  // config only; not in the record we build
          return;
        case h264::NalType::sps:
          v.latest_sps.assign(nal.begin(), nal.end());
          return;
        case h264::NalType::pps:
          v.latest_pps.assign(nal.begin(), nal.end());
          return;
        case h264::NalType::idr:
          packet.keyframe = true;
          break;
        default:
          break;
      }
      has_vcl |= h264::is_vcl(h264::nal_type(nal[0]));
      append(nal);
    });
    update_avc_config();
  } else {
    packet.codec = Codec::hevc;
    bool bad_header = false;
    h264::for_each_annexb_nal(pes.payload, [&](std::span<const uint8_t> nal) {
      // Annex B start codes are H.264's (H.265 §B.2); the 2-byte header is checked so
      // every unit a Packet carries has a valid one (hevc::for_each_nal relies on it).
      auto header = hevc::parse_nal_header(nal);
      if (!header) {
        bad_header = true;  // a decoder discards it too (§7.4.2.2); the rest may be fine
        return;
      }
      switch (header->type) {
        case hevc::NalType::aud:     // hvcC framing needs no delimiters
        case hevc::NalType::filler:  // padding for CBR links, useless past here
          return;
        case hevc::NalType::vps:
        case hevc::NalType::sps:
        case hevc::NalType::pps: {
          // A multi-layer extension's (Annex F) parameter sets stay in band: the record
          // we build describes the base layer, which is what hevc::parse_sps reads.
          if (header->layer_id != 0) break;
          auto& latest = header->type == hevc::NalType::vps   ? v.latest_vps
                         : header->type == hevc::NalType::sps ? v.latest_sps
                                                              : v.latest_pps;
          latest.assign(nal.begin(), nal.end());
          return;
        }
        default:
          break;
      }
      packet.keyframe |= hevc::is_irap(header->type);
      has_vcl |= hevc::is_vcl(header->type);
      append(nal);
    });
    if (bad_header) ++stats.es_errors;
    update_hevc_config();
  }
  if (!has_vcl) return;  // parameter sets only: nothing to show
  if (!v.track || (v.need_keyframe && !packet.keyframe)) {
    ++stats.dropped_frames;
    return;
  }
  v.need_keyframe = false;
  ++stats.video_frames;
  TsDemuxEvent event;
  event.type = TsDemuxEvent::Type::packet;
  event.packet = std::move(packet);
  event.input_offset = pes.last_byte_offset;
  emit(std::move(event), out);
}

void TsDemuxer::State::on_audio_pes(PesPacket& pes, std::vector<TsDemuxEvent>& out) {
  auto& a = *audio;
  std::vector<uint8_t> joined;
  std::span<const uint8_t> data = pes.payload;
  const size_t carried = a.carry.size();
  if (carried) {
    joined.reserve(carried + pes.payload.size());
    joined.insert(joined.end(), a.carry.begin(), a.carry.end());
    joined.insert(joined.end(), pes.payload.begin(), pes.payload.end());
    data = joined;
  }
  const std::optional<int64_t> pes_pts =
      pes.has_pts ? std::optional<int64_t>(unwrap(pes.pts)) : std::nullopt;
  bool clock_set = false;
  bool resync_counted = false;
  size_t pos = 0;
  while (pos < data.size()) {
    // §2.4.3.7: the PTS belongs to the first access unit that starts in this PES; a
    // frame carried over from the previous PES keeps the running clock.
    if (!clock_set && pos >= carried && pes_pts) {
      a.have_clock = true;
      a.clock_base = *pes_pts;
      a.clock_samples = 0;
      clock_set = true;
    }
    std::span<const uint8_t> rest = data.subspan(pos);
    const bool sync = rest.size() >= 2 && rest[0] == 0xFF && (rest[1] & 0xF6) == 0xF0;
    // A header cut by the end of this PES: 7 bytes, 9 with protection_absent 0 (CRC).
    if (sync && (rest.size() < aac::kAdtsHeaderSize || ((rest[1] & 0x01) == 0 && rest.size() < 9))) break;
    auto header = aac::parse_adts_header(rest);
    if (!header) {
      if (!resync_counted) {
        ++stats.es_errors;
        resync_counted = true;
      }
      // Not a frame start: look for the next syncword.
      size_t next = 1;
      while (next + 1 < rest.size() && !(rest[next] == 0xFF && (rest[next + 1] & 0xF6) == 0xF0)) ++next;
      pos += next + 1 < rest.size() ? next : rest.size();
      continue;
    }
    if (header->frame_length > rest.size()) break;  // continues in the next PES
    const auto frame = rest.subspan(header->header_size(), header->frame_length - header->header_size());
    pos += header->frame_length;

    const uint32_t rate = header->sample_rate();
    auto asc = aac::build_audio_specific_config(header->object_type, rate, header->channel_config);
    if (!asc) {
      ++stats.es_errors;
      continue;
    }
    AudioTrack track;
    track.codec = Codec::aac;
    track.sample_rate = static_cast<int>(rate);
    track.channels = header->to_audio_specific_config().channels();
    track.decoder_config = std::move(asc.value());
    if (!a.track || *a.track != track) a.track = std::move(track);

    if (!a.have_clock) {
      ++stats.dropped_frames;
      continue;
    }
    if (a.clock_rate != rate) {  // rate change: restart the sample count from here
      a.clock_base += a.clock_rate ? rescale(a.clock_samples, TimeBase{1, a.clock_rate}, k90kHz) : 0;
      a.clock_samples = 0;
      a.clock_rate = rate;
    }
    const int64_t ts = a.clock_base + rescale(a.clock_samples, TimeBase{1, rate}, k90kHz);
    // §1.A.2.2 (14496-3): each raw_data_block holds 1024 samples.
    a.clock_samples += 1024 * int64_t{header->raw_data_blocks};
    if (frame.empty()) continue;

    TsDemuxEvent event;
    event.type = TsDemuxEvent::Type::packet;
    event.packet.kind = MediaKind::audio;
    event.packet.codec = Codec::aac;
    event.packet.keyframe = true;
    event.packet.time_base = k90kHz;
    event.packet.dts = event.packet.pts = ts;
    event.packet.payload.assign(frame.begin(), frame.end());
    event.input_offset = pes.last_byte_offset;
    ++stats.audio_frames;
    emit(std::move(event), out);
  }
  // Keep an incomplete frame for the next PES (bounded by the 13-bit frame length).
  if (pos < data.size() && data.size() - pos <= aac::kAdtsMaxFrameLength) {
    std::vector<uint8_t> rest(data.begin() + static_cast<std::ptrdiff_t>(pos), data.end());
    a.carry = std::move(rest);
  } else {
    a.carry.clear();
  }
}

// ------------------------------------------------------------------------------------
// Output

TrackSet TsDemuxer::State::current_tracks(bool* all_ready) const {
  TrackSet t;
  if (video && video->track) t.video = video->track;
  if (audio && audio->track) t.audio = audio->track;
  *all_ready = (!video || video->track) && (!audio || audio->track);
  return t;
}

void TsDemuxer::State::announce(std::vector<TsDemuxEvent>& out, bool force, uint64_t offset) {
  bool all_ready = false;
  TrackSet now = current_tracks(&all_ready);
  if (!gathering) {
    if (now == announced) return;
  } else if ((!all_ready && !force) || (!now.video && !now.audio)) {
    return;
  }
  if (!announced_once || now != announced) {
    announced = now;
    announced_once = true;
    TsDemuxEvent event;
    event.type = TsDemuxEvent::Type::tracks;
    event.tracks = std::move(now);
    event.input_offset = offset;
    out.push_back(std::move(event));
  }
  if (gathering) {
    gathering = false;
    for (auto& held : pending) {
      if ((held.packet.kind == MediaKind::video && announced.video) ||
          (held.packet.kind == MediaKind::audio && announced.audio))
        out.push_back(std::move(held));
      else
        ++stats.dropped_frames;
    }
    pending.clear();
  }
}

void TsDemuxer::State::emit(TsDemuxEvent&& event, std::vector<TsDemuxEvent>& out) {
  announce(out, false, event.input_offset);
  if (!gathering) {
    out.push_back(std::move(event));
    return;
  }
  pending.push_back(std::move(event));
  const int64_t span = pending.back().packet.dts - pending.front().packet.dts;
  if (pending.size() > limits.max_pending_packets || span > limits.max_pending_90khz || span < -limits.max_pending_90khz)
    announce(out, true, pending.back().input_offset);
  if (gathering && pending.size() > limits.max_pending_packets) {
    stats.dropped_frames += pending.size();  // unreachable in practice: held packets have a track
    pending.clear();
  }
}

void TsDemuxer::State::sync_stats() {
  stats.pes_dropped = retired_pes_dropped + (video ? video->pes.stats().dropped : 0) +
                      (audio ? audio->pes.stats().dropped : 0);
}

// ------------------------------------------------------------------------------------

TsDemuxer::TsDemuxer(TsDemuxerLimits limits) : s_(std::make_unique<State>(limits)) {}
TsDemuxer::~TsDemuxer() = default;

void TsDemuxer::feed(std::span<const uint8_t> bytes, std::vector<TsDemuxEvent>& out) { s_->feed(bytes, out); }
void TsDemuxer::finish(std::vector<TsDemuxEvent>& out) { s_->finish(out); }
const TsDemuxerStats& TsDemuxer::stats() const { return s_->stats; }
const TrackSet& TsDemuxer::tracks() const { return s_->announced; }
const std::string& TsDemuxer::config_error() const { return s_->config_error; }

}  // namespace anchorcast
