#include "relay/protocol/fmp4/media_segment.hpp"

#include <limits>
#include <string>

#include "relay/protocol/bits/byte_order.hpp"
#include "relay/protocol/fmp4/box_writer.hpp"
#include "relay/protocol/h264/nal_unit.hpp"
#include "relay/protocol/hevc/nal_unit.hpp"

namespace anchorcast::fmp4 {
namespace {

// §8.8.8.1 trun flags.
constexpr uint32_t kDataOffsetPresent = 0x000001;
constexpr uint32_t kSampleDurationPresent = 0x000100;
constexpr uint32_t kSampleSizePresent = 0x000200;
constexpr uint32_t kSampleFlagsPresent = 0x000400;
constexpr uint32_t kSampleCompositionOffsetsPresent = 0x000800;
constexpr uint32_t kDefaultBaseIsMoof = 0x020000;  // §8.8.7.1 tfhd
// §8.8.3.1 sample flags: sample_depends_on 2 (an I picture, or audio), or 1 and
// sample_is_non_sync_sample.
constexpr uint32_t kSyncSampleFlags = 0x02000000;
constexpr uint32_t kNonSyncSampleFlags = 0x01010000;

struct Row {
  uint32_t duration = 0;
  uint32_t size = 0;
  uint32_t flags = 0;
  int32_t composition_offset = 0;
};

struct Run {
  const TrackFragment* fragment = nullptr;
  uint64_t base_decode_time = 0;
  std::vector<Row> rows;
  bool composition_offsets = false;
  uint64_t data_size = 0;
  size_t data_offset_at = 0;  // where the trun's data_offset is, to patch once moof is done
};

std::string sample_name(const TrackConfig& track, size_t index) {
  return std::string(track.kind == MediaKind::video ? "video" : "audio") + " sample #" + std::to_string(index);
}

// Walks a video access unit's NAL units, calling f for each one the sample keeps.
template <class F>
Status for_each_kept_nal(const TrackConfig& track, std::span<const uint8_t> au, F&& f) {
  auto keep = [&](std::span<const uint8_t> nal) {
    if (!(track.parameter_sets_out_of_band && is_parameter_set(track.codec, nal))) f(nal);
  };
  if (track.codec == Codec::hevc) return hevc::for_each_nal(au, 4, keep);
  return h264::for_each_avcc_nal(au, 4, keep);
}

Result<uint32_t> sample_size(const TrackConfig& track, const Packet& packet) {
  if (track.kind == MediaKind::audio) return static_cast<uint32_t>(packet.bytes().size());
  uint64_t size = 0;
  auto walked = for_each_kept_nal(track, packet.bytes(), [&](std::span<const uint8_t> nal) { size += 4 + nal.size(); });
  if (!walked) return walked.error();
  if (size > std::numeric_limits<uint32_t>::max()) return make_error("access unit exceeds 4 GiB");
  return static_cast<uint32_t>(size);
}

Status plan_run(const TrackFragment& fragment, Run& run) {
  const TrackConfig& track = *fragment.track;
  const TimeBase timescale{1, track.timescale};
  const auto& packets = fragment.packets;
  run.fragment = &fragment;
  run.rows.resize(packets.size());
  int64_t previous_duration = track.default_sample_duration;
  for (size_t i = 0; i < packets.size(); ++i) {
    const Packet& p = *packets[i];
    if (auto s = check_sample(track, p); !s) return make_error(sample_name(track, i) + ": " + s.error().message);
    const int64_t dts = p.dts_in(timescale);
    if (i == 0) run.base_decode_time = static_cast<uint64_t>(dts);
    int64_t duration = previous_duration;
    if (i + 1 < packets.size()) {
      duration = packets[i + 1]->dts_in(timescale) - dts;
    } else if (fragment.end_us) {
      duration = rescale(*fragment.end_us, kMicros, timescale) - dts;
    }
    if (duration < 0)
      return make_error(sample_name(track, i) + " decodes after the " +
                        (i + 1 < packets.size() ? "next sample" : "fragment's end"));
    if (duration > std::numeric_limits<uint32_t>::max())
      return make_error(sample_name(track, i) + " lasts longer than 32 bits of timescale");
    previous_duration = duration;
    const int64_t offset = p.pts_in(timescale) - dts;
    if (offset < std::numeric_limits<int32_t>::min() || offset > std::numeric_limits<int32_t>::max())
      return make_error(sample_name(track, i) + ": composition offset exceeds 32 bits");
    auto size = sample_size(track, p);
    if (!size) return make_error(sample_name(track, i) + ": " + size.error().message);
    Row& row = run.rows[i];
    row.duration = static_cast<uint32_t>(duration);
    row.size = *size;
    row.flags = track.kind == MediaKind::audio || p.keyframe ? kSyncSampleFlags : kNonSyncSampleFlags;
    row.composition_offset = static_cast<int32_t>(offset);
    run.composition_offsets |= offset != 0;
    run.data_size += *size;
  }
  return {};
}

void write_traf(BoxWriter& w, Run& run) {
  Box traf(w, "traf");
  {
    Box tfhd(w, "tfhd", 0, kDefaultBaseIsMoof);
    w.u32(run.fragment->track->track_id);
  }
  {
    Box tfdt(w, "tfdt", 1, 0);  // version 1: a 64-bit baseMediaDecodeTime
    w.u64(run.base_decode_time);
  }
  uint32_t flags = kDataOffsetPresent | kSampleDurationPresent | kSampleSizePresent | kSampleFlagsPresent;
  if (run.composition_offsets) flags |= kSampleCompositionOffsetsPresent;
  // Version 1 when there are offsets: they are signed (§8.8.8.3), the form CMAF uses.
  Box trun(w, "trun", run.composition_offsets ? 1 : 0, flags);
  w.u32(static_cast<uint32_t>(run.rows.size()));
  run.data_offset_at = w.size();
  w.u32(0);  // data_offset, patched once the moof's size is known
  for (const Row& row : run.rows) {
    w.u32(row.duration);
    w.u32(row.size);
    w.u32(row.flags);
    if (run.composition_offsets) w.u32(static_cast<uint32_t>(row.composition_offset));
  }
}

void write_samples(BoxWriter& w, const Run& run) {
  const TrackConfig& track = *run.fragment->track;
  for (const auto& packet : run.fragment->packets) {
    if (track.kind == MediaKind::audio) {
      w.bytes(packet->bytes());
      continue;
    }
    // Already walked once by plan_run: cannot fail here.
    (void)for_each_kept_nal(track, packet->bytes(), [&](std::span<const uint8_t> nal) {
      w.u32(static_cast<uint32_t>(nal.size()));
      w.bytes(nal);
    });
  }
}

}  // namespace

Status check_sample(const TrackConfig& track, const Packet& packet) {
  if (packet.kind != track.kind || packet.codec != track.codec)
    return make_error("packet's kind or codec is not the track's");
  if (packet.dts < 0) return make_error("decode time " + std::to_string(packet.dts) + " is negative");
  if (track.kind == MediaKind::audio) {
    if (packet.bytes().empty()) return make_error("empty AAC frame");
    if (packet.bytes().size() > std::numeric_limits<uint32_t>::max()) return make_error("AAC frame exceeds 4 GiB");
    return {};
  }
  return for_each_kept_nal(track, packet.bytes(), [](std::span<const uint8_t>) {});
}

Status write_media_segment(uint32_t sequence_number, std::span<const TrackFragment> fragments,
                           std::span<const EventMessage> events, std::vector<uint8_t>& out) {
  std::vector<Run> runs;
  runs.reserve(fragments.size());
  uint64_t mdat_size = 8;
  for (const auto& fragment : fragments) {
    if (!fragment.track || fragment.packets.empty()) continue;  // a track with no sample has no traf
    Run run;
    if (auto s = plan_run(fragment, run); !s) return s;
    mdat_size += run.data_size;
    runs.push_back(std::move(run));
  }
  if (mdat_size > std::numeric_limits<uint32_t>::max())
    return make_error("media segment of " + std::to_string(mdat_size) + " bytes exceeds the 4 GiB a 32-bit mdat holds");

  BoxWriter w(out);
  {
    // §8.16.2: the segment's brands; `msdh` (ISO/IEC 23009-1 §6.3.4.2) is a media segment.
    Box styp(w, "styp");
    w.fourcc("msdh");
    w.u32(0);
    w.fourcc("msdh");
  }
  for (const auto& e : events) {
    Box emsg(w, "emsg", 1, 0);
    w.u32(e.timescale);
    w.u64(e.presentation_time);
    w.u32(e.event_duration);
    w.u32(e.id);
    w.string(e.scheme_id_uri);
    w.string(e.value);
    w.bytes(e.message_data);
  }
  const size_t moof_start = w.size();
  {
    Box moof(w, "moof");
    {
      Box mfhd(w, "mfhd", 0, 0);
      w.u32(sequence_number);
    }
    for (auto& run : runs) write_traf(w, run);
  }
  // default-base-is-moof: each trun's data_offset counts from the moof's first byte.
  uint64_t offset = (w.size() - moof_start) + 8;
  for (const auto& run : runs) {
    bits::store_be32(out.data() + run.data_offset_at, static_cast<uint32_t>(offset));
    offset += run.data_size;
  }
  w.u32(static_cast<uint32_t>(mdat_size));
  w.fourcc("mdat");
  for (const auto& run : runs) write_samples(w, run);
  return {};
}

}  // namespace anchorcast::fmp4
