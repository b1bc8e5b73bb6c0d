// TsDemuxer against MPEG-TS written by the real ffmpeg (tests/data/srt/README.md says
// how each fixture was made), and against damaged copies of it made here.
#include "relay/protocol/mpegts/ts_demuxer.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <random>
#include <string>

#include "relay/protocol/h264/avc_decoder_config.hpp"
#include "relay/protocol/h264/nal_unit.hpp"
#include "relay/protocol/hevc/hevc_decoder_config.hpp"
#include "relay/protocol/hevc/nal_unit.hpp"
#include "relay/protocol/hevc/sps.hpp"
#include "relay/protocol/mpegts/ts_muxer.hpp"

namespace anchorcast {
namespace {

std::vector<uint8_t> read_fixture(const std::string& name) {
  std::ifstream in(std::string(ANCHORCAST_TEST_DATA) + "/srt/" + name, std::ios::binary);
  EXPECT_TRUE(in.good()) << name;
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<TsDemuxEvent> demux(std::span<const uint8_t> bytes, TsDemuxer& d) {
  std::vector<TsDemuxEvent> out;
  d.feed(bytes, out);
  d.finish(out);
  return out;
}

std::vector<TsDemuxEvent> demux(std::span<const uint8_t> bytes) {
  TsDemuxer d;
  return demux(bytes, d);
}

struct Summary {
  int tracks = 0;
  int video = 0;
  int keyframes = 0;
  int audio = 0;
};

Summary summarize(const std::vector<TsDemuxEvent>& events) {
  Summary s;
  for (const auto& e : events) {
    if (e.type == TsDemuxEvent::Type::tracks) {
      ++s.tracks;
    } else if (e.packet.kind == MediaKind::video) {
      ++s.video;
      s.keyframes += e.packet.keyframe;
    } else {
      ++s.audio;
    }
  }
  return s;
}

// Where each TS packet of a clean fixture starts, with its PID and unit-start flag.
struct TsPacketInfo {
  size_t offset;
  uint16_t pid;
  bool unit_start;
};

std::vector<TsPacketInfo> index_packets(const std::vector<uint8_t>& ts) {
  std::vector<TsPacketInfo> out;
  for (size_t off = 0; off + kTsPacketSize <= ts.size(); off += kTsPacketSize) {
    EXPECT_EQ(ts[off], 0x47);
    out.push_back({off, static_cast<uint16_t>(((ts[off + 1] & 0x1F) << 8) | ts[off + 2]),
                   (ts[off + 1] & 0x40) != 0});
  }
  return out;
}

// The TS packet offsets of the n-th PES (0-based) on `pid`.
std::vector<size_t> pes_packets(const std::vector<uint8_t>& ts, uint16_t pid, int n) {
  std::vector<size_t> out;
  int index = -1;
  for (const auto& p : index_packets(ts)) {
    if (p.pid != pid) continue;
    if (p.unit_start) ++index;
    if (index == n) out.push_back(p.offset);
  }
  return out;
}

constexpr uint16_t kVideoPid = 0x100;  // ffmpeg's default first elementary PID
constexpr uint16_t kAudioPid = 0x101;

// ffprobe -show_packets on av_h264_aac.ts: 30 video packets (keyframes at 0 and 15,
// -g 15), 45 AAC frames at 44.1 kHz mono, first audio pts 129910.
constexpr int kFixtureVideoFrames = 30;
constexpr int kFixtureAudioFrames = 45;

TEST(TsDemuxer, FfmpegH264AacGivesEveryFrameAndTheTracks) {
  auto ts = read_fixture("av_h264_aac.ts");
  TsDemuxer d;
  auto events = demux(ts, d);
  ASSERT_FALSE(events.empty());
  ASSERT_EQ(events[0].type, TsDemuxEvent::Type::tracks);
  Summary s = summarize(events);
  EXPECT_EQ(s.tracks, 1);
  EXPECT_EQ(s.video, kFixtureVideoFrames);
  EXPECT_EQ(s.keyframes, 2);
  EXPECT_EQ(s.audio, kFixtureAudioFrames);

  const TrackSet& tracks = events[0].tracks;
  ASSERT_TRUE(tracks.video);
  EXPECT_EQ(tracks.video->codec, Codec::h264);
  EXPECT_EQ(tracks.video->width, 320);
  EXPECT_EQ(tracks.video->height, 240);
  EXPECT_DOUBLE_EQ(tracks.video->fps, 30.0);
  auto record = h264::parse_avc_decoder_config(tracks.video->decoder_config);
  ASSERT_TRUE(record.ok()) << record.error().message;
  EXPECT_EQ(record->length_size, 4);
  EXPECT_EQ(record->sps.size(), 1u);
  EXPECT_EQ(record->pps.size(), 1u);
  EXPECT_EQ(record->profile_idc, 100);  // libx264 default: High
  ASSERT_TRUE(tracks.audio);
  EXPECT_EQ(tracks.audio->codec, Codec::aac);
  EXPECT_EQ(tracks.audio->sample_rate, 44100);
  EXPECT_EQ(tracks.audio->channels, 1);
  // AudioSpecificConfig: AAC LC (2), index 4 (44100), mono: 00010 0100 0001 000.
  EXPECT_EQ(tracks.audio->decoder_config, (std::vector<uint8_t>{0x12, 0x08}));
  EXPECT_EQ(d.tracks(), tracks);

  const auto& st = d.stats();
  EXPECT_EQ(st.cc_errors, 0u);
  EXPECT_EQ(st.pes_dropped, 0u);
  EXPECT_EQ(st.psi_errors, 0u);
  EXPECT_EQ(st.sync_losses, 0u);
  EXPECT_EQ(st.es_errors, 0u);
  EXPECT_EQ(st.ts_packets, ts.size() / kTsPacketSize);
}

TEST(TsDemuxer, VideoIsAvccWithoutDelimitersOrParameterSets) {
  auto events = demux(read_fixture("av_h264_aac.ts"));
  bool first_video = true;
  for (const auto& e : events) {
    if (e.type != TsDemuxEvent::Type::packet || e.packet.kind != MediaKind::video) continue;
    EXPECT_EQ(e.packet.time_base, k90kHz);
    if (first_video) {
      EXPECT_TRUE(e.packet.keyframe) << "video must start on a keyframe";
    }
    first_video = false;
    bool idr = false;
    int units = 0;
    Status walked = h264::for_each_avcc_nal(e.packet.bytes(), 4, [&](std::span<const uint8_t> nal) {
      ++units;
      auto t = h264::nal_type(nal[0]);
      EXPECT_NE(t, h264::NalType::aud);
      EXPECT_NE(t, h264::NalType::sps);
      EXPECT_NE(t, h264::NalType::pps);
      idr |= t == h264::NalType::idr;
    });
    ASSERT_TRUE(walked.ok()) << walked.error().message;
    EXPECT_GT(units, 0);
    EXPECT_EQ(idr, e.packet.keyframe);
  }
}

TEST(TsDemuxer, TimestampsAreMonotonicPerTrackAndAudioFramesHaveTheirOwnPts) {
  auto events = demux(read_fixture("av_h264_aac.ts"));
  int64_t last_video_dts = -1, last_audio_pts = -1;
  int64_t first_audio_pts = -1;
  for (const auto& e : events) {
    if (e.type != TsDemuxEvent::Type::packet) continue;
    const Packet& p = e.packet;
    if (p.kind == MediaKind::video) {
      EXPECT_GT(p.dts, last_video_dts);
      EXPECT_GE(p.pts, p.dts);
      if (last_video_dts >= 0) {
        EXPECT_EQ(p.dts - last_video_dts, 3000);  // 30 fps
      }
      last_video_dts = p.dts;
    } else {
      EXPECT_EQ(p.pts, p.dts);
      if (first_audio_pts < 0) first_audio_pts = p.pts;
      // 1024 samples at 44.1 kHz = 2089.8 ticks of 90 kHz
      if (last_audio_pts >= 0) {
        EXPECT_GE(p.pts - last_audio_pts, 2089);
        EXPECT_LE(p.pts - last_audio_pts, 2090);
      }
      last_audio_pts = p.pts;
    }
  }
  EXPECT_EQ(first_audio_pts, 129910);  // as ffprobe reports it
}

bool same_events(const std::vector<TsDemuxEvent>& a, const std::vector<TsDemuxEvent>& b,
                 bool compare_offsets = true) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const auto &x = a[i], &y = b[i];
    if (x.type != y.type || !(x.tracks == y.tracks)) return false;
    if (compare_offsets && x.input_offset != y.input_offset) return false;
    const Packet &p = x.packet, &q = y.packet;
    if (p.kind != q.kind || p.codec != q.codec || p.keyframe != q.keyframe || p.dts != q.dts || p.pts != q.pts ||
        p.payload != q.payload)
      return false;
  }
  return true;
}

TEST(TsDemuxer, ByteAtATimeFeedingEqualsBulk) {
  auto ts = read_fixture("av_h264_aac.ts");
  auto bulk = demux(ts);
  TsDemuxer d;
  std::vector<TsDemuxEvent> one;
  for (uint8_t b : ts) d.feed(std::span<const uint8_t>(&b, 1), one);
  d.finish(one);
  EXPECT_TRUE(same_events(bulk, one));

  // SRT-sized and random splits too.
  std::mt19937 rng(7);
  TsDemuxer r;
  std::vector<TsDemuxEvent> random;
  for (size_t pos = 0; pos < ts.size();) {
    size_t n = std::min<size_t>(ts.size() - pos, std::uniform_int_distribution<size_t>(1, 2000)(rng));
    r.feed(std::span<const uint8_t>(ts).subspan(pos, n), random);
    pos += n;
  }
  r.finish(random);
  EXPECT_TRUE(same_events(bulk, random));
}

TEST(TsDemuxer, GarbageBetweenPacketsIsSkippedWithoutLosingFrames) {
  auto ts = read_fixture("av_h264_aac.ts");
  std::vector<uint8_t> dirty;
  std::mt19937 rng(42);
  size_t garbage_total = 0;
  int garbage_runs = 0;
  for (size_t off = 0; off < ts.size(); off += kTsPacketSize) {
    if (off > 0 && (off / kTsPacketSize) % 25 == 0) {
      // Random bytes with a sync byte inside that has no other one 188 bytes later (a
      // false sync the demuxer must not lock on). Garbage that itself starts with 0x47
      // right where a packet is due cannot be told from a packet without delaying every
      // packet by one; it costs the packet it overlaps (a continuity error), no more.
      size_t n = std::uniform_int_distribution<size_t>(2, 300)(rng);
      for (size_t i = 0; i < n; ++i) dirty.push_back(static_cast<uint8_t>(rng() % 0x47));
      dirty[dirty.size() - n / 2] = 0x47;
      garbage_total += n;
      ++garbage_runs;
    }
    dirty.insert(dirty.end(), ts.begin() + static_cast<std::ptrdiff_t>(off),
                 ts.begin() + static_cast<std::ptrdiff_t>(off + kTsPacketSize));
  }
  TsDemuxer d;
  auto events = demux(dirty, d);
  Summary s = summarize(events);
  EXPECT_EQ(s.video, kFixtureVideoFrames);
  EXPECT_EQ(s.audio, kFixtureAudioFrames);
  EXPECT_EQ(d.stats().sync_losses, static_cast<uint64_t>(garbage_runs));
  EXPECT_EQ(d.stats().skipped_bytes, garbage_total);
  EXPECT_EQ(d.stats().cc_errors, 0u);

  // Garbage before the first packet, and a stream that is nothing but garbage.
  std::vector<uint8_t> prefixed(333, 0x47);
  prefixed.insert(prefixed.end(), ts.begin(), ts.end());
  EXPECT_EQ(summarize(demux(prefixed)).video, kFixtureVideoFrames);
  std::vector<uint8_t> junk(100000);
  for (auto& b : junk) b = static_cast<uint8_t>(rng());
  EXPECT_EQ(summarize(demux(junk)).video, 0);
}

TEST(TsDemuxer, LostPacketDropsThatFrameAndVideoWaitsForTheNextKeyframe) {
  auto ts = read_fixture("av_h264_aac.ts");
  // Remove the 2nd TS packet of the third video PES (decode order): frame 2 breaks, so
  // frames 2..14 must not reach a decoder; the IDR at 15 resumes.
  auto third = pes_packets(ts, kVideoPid, 2);
  ASSERT_GE(third.size(), 2u);
  std::vector<uint8_t> lossy(ts.begin(), ts.begin() + static_cast<std::ptrdiff_t>(third[1]));
  lossy.insert(lossy.end(), ts.begin() + static_cast<std::ptrdiff_t>(third[1] + kTsPacketSize), ts.end());
  TsDemuxer d;
  auto events = demux(lossy, d);
  Summary s = summarize(events);
  EXPECT_EQ(d.stats().cc_errors, 1u);
  EXPECT_EQ(d.stats().pes_dropped, 1u);
  EXPECT_EQ(s.video, 2 + 15);
  EXPECT_EQ(s.keyframes, 2);
  EXPECT_EQ(s.audio, kFixtureAudioFrames);
  EXPECT_EQ(d.stats().dropped_frames, 12u);  // 3..14
}

TEST(TsDemuxer, CorruptedContinuityCounterIsCountedAndSurvived) {
  auto ts = read_fixture("av_h264_aac.ts");
  auto third = pes_packets(ts, kVideoPid, 2);
  ASSERT_GE(third.size(), 3u);
  std::vector<uint8_t> bad = ts;
  uint8_t& cc_byte = bad[third[1] + 3];
  cc_byte = static_cast<uint8_t>((cc_byte & 0xF0) | ((cc_byte + 5) & 0x0F));
  TsDemuxer d;
  Summary s = summarize(demux(bad, d));
  // The corrupt counter breaks the sequence twice: at that packet and at the next.
  EXPECT_EQ(d.stats().cc_errors, 2u);
  EXPECT_EQ(d.stats().pes_dropped, 1u);
  EXPECT_EQ(s.video, 2 + 15);
  EXPECT_EQ(s.audio, kFixtureAudioFrames);

  // A duplicated packet (§2.4.3.3 allows one repeat) is not an error and adds nothing.
  std::vector<uint8_t> dup(ts.begin(), ts.begin() + static_cast<std::ptrdiff_t>(third[1] + kTsPacketSize));
  dup.insert(dup.end(), ts.begin() + static_cast<std::ptrdiff_t>(third[1]), ts.end());
  TsDemuxer d2;
  auto dup_events = demux(dup, d2);
  EXPECT_EQ(d2.stats().cc_errors, 0u);
  // Offsets after the duplicate moved by one packet; everything else is the same.
  EXPECT_TRUE(same_events(dup_events, demux(ts), false));
}

TEST(TsDemuxer, LostAudioPacketLosesOnlyThoseFrames) {
  auto ts = read_fixture("av_h264_aac.ts");
  auto second = pes_packets(ts, kAudioPid, 1);
  ASSERT_GE(second.size(), 2u);
  std::vector<uint8_t> lossy(ts.begin(), ts.begin() + static_cast<std::ptrdiff_t>(second[1]));
  lossy.insert(lossy.end(), ts.begin() + static_cast<std::ptrdiff_t>(second[1] + kTsPacketSize), ts.end());
  // ffmpeg packs several ADTS frames per PES: the frames of that one PES are lost.
  const uint64_t pes_end = pes_packets(ts, kAudioPid, 1).back() + kTsPacketSize;
  int in_that_pes = 0;
  for (const auto& e : demux(ts))
    in_that_pes += e.type == TsDemuxEvent::Type::packet && e.packet.kind == MediaKind::audio &&
                   e.input_offset == pes_end;
  ASSERT_GT(in_that_pes, 0);
  TsDemuxer d;
  Summary s = summarize(demux(lossy, d));
  EXPECT_EQ(d.stats().cc_errors, 1u);
  EXPECT_EQ(d.stats().pes_dropped, 1u);
  EXPECT_EQ(s.video, kFixtureVideoFrames);
  EXPECT_EQ(s.audio, kFixtureAudioFrames - in_that_pes);
}

TEST(TsDemuxer, PmtChangeSwitchesStreamsUnderOneNewTrackSet) {
  // Two ffmpeg outputs back to back: 320x240 video only (PMT version 0, PID 0x100),
  // then 160x120 + 48 kHz AAC (version 1, PIDs 0x200/0x201).
  TsDemuxer d;
  auto events = demux(read_fixture("pmt_change.ts"), d);
  std::vector<size_t> track_events;
  for (size_t i = 0; i < events.size(); ++i)
    if (events[i].type == TsDemuxEvent::Type::tracks) track_events.push_back(i);
  ASSERT_EQ(track_events.size(), 2u);
  const TrackSet& before = events[track_events[0]].tracks;
  const TrackSet& after = events[track_events[1]].tracks;
  ASSERT_TRUE(before.video);
  EXPECT_FALSE(before.audio);
  EXPECT_EQ(before.video->width, 320);
  ASSERT_TRUE(after.video);
  ASSERT_TRUE(after.audio);
  EXPECT_EQ(after.video->width, 160);
  EXPECT_EQ(after.video->height, 120);
  EXPECT_EQ(after.audio->sample_rate, 48000);
  EXPECT_EQ(d.stats().pmt_changes, 1u);

  Summary first(summarize({events.begin(), events.begin() + static_cast<std::ptrdiff_t>(track_events[1])}));
  Summary second(summarize({events.begin() + static_cast<std::ptrdiff_t>(track_events[1]), events.end()}));
  EXPECT_EQ(first.video, 15);
  EXPECT_EQ(first.audio, 0);
  EXPECT_EQ(second.video, 15);
  EXPECT_EQ(second.audio, 25);
  EXPECT_EQ(second.keyframes, 1);
  // Byte-at-a-time gives the same.
  auto ts = read_fixture("pmt_change.ts");
  TsDemuxer one;
  std::vector<TsDemuxEvent> slow;
  for (uint8_t b : ts) one.feed(std::span<const uint8_t>(&b, 1), slow);
  one.finish(slow);
  EXPECT_TRUE(same_events(events, slow));
}

// hevc.ts: x265 (via ffmpeg) puts AUD, VPS, SPS, PPS and SEI in front of its IDR.
constexpr int kHevcFixtureFrames = 15;

TEST(TsDemuxer, HevcBecomesHvccFramedPacketsUnderARecordBuiltFromTheParameterSets) {
  TsDemuxer d;
  auto events = demux(read_fixture("hevc.ts"), d);
  ASSERT_FALSE(events.empty());
  ASSERT_EQ(events[0].type, TsDemuxEvent::Type::tracks);
  const TrackSet& tracks = events[0].tracks;
  ASSERT_TRUE(tracks.video);
  EXPECT_FALSE(tracks.audio);
  EXPECT_EQ(tracks.video->codec, Codec::hevc);
  EXPECT_EQ(tracks.video->width, 320);
  EXPECT_EQ(tracks.video->height, 240);
  EXPECT_EQ(tracks.video->fps, 0.0);  // in the VUI, which the SPS parser does not read

  // The record: what ffmpeg writes into an MP4's hvcC for x265 (Main, level 2 = 60,
  // 4:2:0, 8 bit), with the stream's own VPS, SPS and PPS.
  auto record = hevc::parse_hevc_decoder_config(tracks.video->decoder_config);
  ASSERT_TRUE(record.ok()) << record.error().message;
  EXPECT_EQ(record->general.profile_idc, 1);
  EXPECT_EQ(record->general.level_idc, 60);
  EXPECT_EQ(record->chroma_format, 1);
  EXPECT_EQ(record->bit_depth_luma, 8);
  EXPECT_EQ(record->length_size, 4);
  ASSERT_EQ(record->arrays.size(), 3u);
  const uint8_t types[] = {32, 33, 34};
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(record->arrays[i].nal_type, types[i]);
    ASSERT_EQ(record->arrays[i].nal_units.size(), 1u);
  }
  auto sps = hevc::parse_sps(record->arrays[1].nal_units[0]);
  ASSERT_TRUE(sps.ok()) << sps.error().message;
  EXPECT_EQ(sps->width, 320);

  Summary s = summarize(events);
  EXPECT_EQ(s.tracks, 1);
  EXPECT_EQ(s.video, kHevcFixtureFrames);
  EXPECT_EQ(s.keyframes, 1);
  EXPECT_EQ(d.stats().es_errors, 0u);
  EXPECT_EQ(d.stats().config_errors, 0u);
  EXPECT_EQ(d.config_error(), "");

  // Packets: valid hvcC framing, no delimiters or base-layer parameter sets (they are in
  // the record), keyframe exactly where the IRAP picture is, 30 fps in decode order.
  int64_t last_dts = -1;
  bool first = true;
  for (const auto& e : events) {
    if (e.type != TsDemuxEvent::Type::packet) continue;
    const Packet& p = e.packet;
    EXPECT_EQ(p.codec, Codec::hevc);
    EXPECT_EQ(p.time_base, k90kHz);
    if (first) {
      EXPECT_TRUE(p.keyframe);
    }
    first = false;
    bool irap = false;
    int vcl = 0;
    Status walked = hevc::for_each_nal(p.bytes(), 4, [&](std::span<const uint8_t> nal) {
      const auto t = hevc::nal_type(nal[0]);
      EXPECT_NE(t, hevc::NalType::aud);
      EXPECT_NE(t, hevc::NalType::vps);
      EXPECT_NE(t, hevc::NalType::sps);
      EXPECT_NE(t, hevc::NalType::pps);
      irap |= hevc::is_irap(t);
      vcl += hevc::is_vcl(t);
    });
    ASSERT_TRUE(walked.ok()) << walked.error().message;
    EXPECT_GT(vcl, 0);
    EXPECT_EQ(irap, p.keyframe);
    auto keyframe = hevc::is_keyframe_access_unit(p.bytes(), 4);
    ASSERT_TRUE(keyframe.ok());
    EXPECT_EQ(*keyframe, p.keyframe);
    EXPECT_GE(p.pts, p.dts);
    if (last_dts >= 0) {
      EXPECT_EQ(p.dts - last_dts, 3000);
    }
    last_dts = p.dts;
  }
  // ffprobe: the first frame has dts 126000, pts 132000 (x265's B-frames reorder).
  EXPECT_EQ(events[1].packet.dts, 126000);
  EXPECT_EQ(events[1].packet.pts, 132000);
}

TEST(TsDemuxer, HevcByteAtATimeFeedingEqualsBulk) {
  auto ts = read_fixture("hevc.ts");
  auto bulk = demux(ts);
  TsDemuxer d;
  std::vector<TsDemuxEvent> one;
  for (uint8_t b : ts) d.feed(std::span<const uint8_t>(&b, 1), one);
  d.finish(one);
  EXPECT_TRUE(same_events(bulk, one));
}

// The offset of the first NAL unit of `type` in a TS (its first header byte), found by
// its start code; -1 when none. Good enough for fixtures whose parameter sets sit in one
// TS packet.
long find_nal(const std::vector<uint8_t>& ts, uint8_t type) {
  const uint8_t pattern[] = {0, 0, 1, static_cast<uint8_t>(type << 1), 0x01};
  auto it = std::search(ts.begin(), ts.end(), std::begin(pattern), std::end(pattern));
  return it == ts.end() ? -1 : static_cast<long>(it - ts.begin()) + 3;
}

TEST(TsDemuxer, HevcWithAnUnusableSpsIsRefusedOnceWithTheReason) {
  auto ts = read_fixture("hevc.ts");
  const long sps = find_nal(ts, 33);
  ASSERT_GT(sps, 0);
  // sps_video_parameter_set_id (4 bits), sps_max_sub_layers_minus1 (3), nesting (1):
  // 7 sub-layers minus one is out of range (§7.4.3.2.1).
  ts[static_cast<size_t>(sps) + 2] |= 0x0E;
  TsDemuxer d;
  auto events = demux(ts, d);
  Summary s = summarize(events);
  EXPECT_EQ(s.tracks, 0);  // video only, and the video is unusable: nothing to announce
  EXPECT_EQ(s.video, 0);
  EXPECT_EQ(d.stats().config_errors, 1u);
  EXPECT_EQ(d.stats().dropped_frames, static_cast<uint64_t>(kHevcFixtureFrames));
  EXPECT_NE(d.config_error().find("HEVC"), std::string::npos) << d.config_error();
  EXPECT_NE(d.config_error().find("sps_max_sub_layers_minus1"), std::string::npos) << d.config_error();
}

TEST(TsDemuxer, HevcNalUnitWithABadHeaderIsDroppedAndCounted) {
  auto ts = read_fixture("hevc.ts");
  // x265's SEI (type 39) follows the PPS in the first access unit: set its
  // forbidden_zero_bit. The unit goes, the picture stays.
  const long sei = find_nal(ts, 39);
  ASSERT_GT(sei, 0);
  ts[static_cast<size_t>(sei)] |= 0x80;
  TsDemuxer d;
  auto events = demux(ts, d);
  EXPECT_EQ(summarize(events).video, kHevcFixtureFrames);
  EXPECT_EQ(d.stats().es_errors, 1u);
  for (const auto& e : events) {
    if (e.type == TsDemuxEvent::Type::packet) {
      EXPECT_TRUE(hevc::for_each_nal(e.packet.bytes(), 4, [](auto) {}).ok());
    }
  }
}

// Two x265 streams of different sizes back to back in one TS, as an encoder restarted
// with new settings sends them: our muxer writes the second one's VPS/SPS/PPS before its
// IDR, and the demuxer announces the new record right before that frame.
TEST(TsDemuxer, HevcParameterSetChangeAnnouncesANewTrackSetBeforeTheFrameThatUsesIt) {
  auto first = demux(read_fixture("hevc.ts"));
  auto second = demux(read_fixture("hevc_160x120.ts"));
  ASSERT_EQ(first.at(0).type, TsDemuxEvent::Type::tracks);
  ASSERT_EQ(second.at(0).type, TsDemuxEvent::Type::tracks);
  ASSERT_TRUE(second[0].tracks.video);
  EXPECT_EQ(second[0].tracks.video->width, 160);
  EXPECT_EQ(second[0].tracks.video->height, 120);  // coded 160x128, cropped by the SPS

  mpegts::TsMuxer muxer;
  std::vector<uint8_t> ts;
  ASSERT_TRUE(muxer.set_tracks(first[0].tracks).ok());
  muxer.write_tables(ts);
  int64_t last_dts = 0;
  for (size_t i = 1; i < first.size(); ++i) {
    ASSERT_TRUE(muxer.write_packet(first[i].packet, ts).ok());
    last_dts = first[i].packet.dts;
  }
  ASSERT_TRUE(muxer.set_tracks(second[0].tracks).ok());
  const int64_t shift = last_dts + 3000 - second.at(1).packet.dts;
  for (size_t i = 1; i < second.size(); ++i) {
    Packet p = second[i].packet;
    p.dts += shift;
    p.pts += shift;
    ASSERT_TRUE(muxer.write_packet(p, ts).ok());
  }

  TsDemuxer d;
  auto events = demux(ts, d);
  std::vector<size_t> track_events;
  for (size_t i = 0; i < events.size(); ++i)
    if (events[i].type == TsDemuxEvent::Type::tracks) track_events.push_back(i);
  ASSERT_EQ(track_events.size(), 2u);
  EXPECT_EQ(track_events[0], 0u);
  EXPECT_EQ(events[0].tracks, first[0].tracks);
  EXPECT_EQ(track_events[1], first.size());  // after the first stream's frames, before the second's
  EXPECT_EQ(events[track_events[1]].tracks, second[0].tracks);
  ASSERT_LT(track_events[1] + 1, events.size());
  EXPECT_TRUE(events[track_events[1] + 1].packet.keyframe);
  Summary s = summarize(events);
  EXPECT_EQ(s.video, kHevcFixtureFrames + static_cast<int>(second.size()) - 1);
  EXPECT_EQ(s.keyframes, 2);
  EXPECT_EQ(d.stats().pmt_changes, 0u);  // same stream, new parameter sets
  EXPECT_EQ(d.stats().config_errors, 0u);
}

// A PMT change while packets are held back (the old PMT announced AAC that never came):
// those packets are the old stream's, so they go out under its TrackSet before the new
// one is announced, never after it under the new stream's codec.
TEST(TsDemuxer, PmtChangeReleasesHeldPacketsUnderTheOldTracks) {
  auto h264 = demux(read_fixture("av_h264_aac.ts"));
  auto hevc = demux(read_fixture("hevc.ts"));
  ASSERT_EQ(h264.at(0).type, TsDemuxEvent::Type::tracks);
  ASSERT_EQ(hevc.at(0).type, TsDemuxEvent::Type::tracks);
  mpegts::TsMuxer muxer;
  std::vector<uint8_t> ts;
  ASSERT_TRUE(muxer.set_tracks(h264[0].tracks).ok());  // H.264 + AAC declared
  muxer.write_tables(ts);
  int h264_frames = 0;
  int64_t last_dts = 0;
  for (size_t i = 1; i < h264.size() && h264_frames < 10; ++i) {
    if (h264[i].packet.kind != MediaKind::video) continue;  // the AAC never comes
    ASSERT_TRUE(muxer.write_packet(h264[i].packet, ts).ok());
    last_dts = h264[i].packet.dts;
    ++h264_frames;
  }
  ASSERT_TRUE(muxer.set_tracks(hevc[0].tracks).ok());  // HEVC only, same PID: PMT version 1
  muxer.write_tables(ts);
  const int64_t shift = last_dts + 3000 - hevc.at(1).packet.dts;
  for (size_t i = 1; i < hevc.size(); ++i) {
    Packet p = hevc[i].packet;
    p.dts += shift;
    p.pts += shift;
    ASSERT_TRUE(muxer.write_packet(p, ts).ok());
  }

  TsDemuxer d;
  auto events = demux(ts, d);
  EXPECT_EQ(d.stats().pmt_changes, 1u);
  Codec announced = Codec::opus;  // none yet
  std::vector<Codec> announcements;
  int h264_out = 0, hevc_out = 0;
  for (const auto& e : events) {
    if (e.type == TsDemuxEvent::Type::tracks) {
      ASSERT_TRUE(e.tracks.video);
      EXPECT_FALSE(e.tracks.audio);  // announced without the AAC that never came
      announced = e.tracks.video->codec;
      announcements.push_back(announced);
      continue;
    }
    EXPECT_EQ(e.packet.codec, announced) << "a packet under another codec's TrackSet";
    (e.packet.codec == Codec::h264 ? h264_out : hevc_out)++;
  }
  EXPECT_EQ(announcements, (std::vector<Codec>{Codec::h264, Codec::hevc}));
  EXPECT_EQ(h264_out, h264_frames);
  EXPECT_EQ(hevc_out, kHevcFixtureFrames);
}

// Adds `delta` (mod 2^33) to every PTS/DTS of the PES headers on `pids`.
void shift_timestamps(std::vector<uint8_t>& ts, std::initializer_list<uint16_t> pids, int64_t delta) {
  auto shift = [&](uint8_t* b) {
    uint64_t v = (uint64_t{(b[0] >> 1) & 0x07u} << 30) | (uint64_t{b[1]} << 22) |
                 (static_cast<uint64_t>(b[2] >> 1) << 15) | (uint64_t{b[3]} << 7) | (uint64_t{b[4]} >> 1);
    v = (v + static_cast<uint64_t>(delta)) & ((uint64_t{1} << 33) - 1);
    b[0] = static_cast<uint8_t>((b[0] & 0xF1) | ((v >> 29) & 0x0E));
    b[1] = static_cast<uint8_t>(v >> 22);
    b[2] = static_cast<uint8_t>(((v >> 14) & 0xFE) | 1);
    b[3] = static_cast<uint8_t>(v >> 7);
    b[4] = static_cast<uint8_t>(((v << 1) & 0xFE) | 1);
  };
  for (const auto& p : index_packets(ts)) {
    if (!p.unit_start || std::find(pids.begin(), pids.end(), p.pid) == pids.end()) continue;
    uint8_t* pkt = ts.data() + p.offset;
    size_t off = 4;
    if (pkt[3] & 0x20) off = 5 + pkt[4];
    uint8_t* pes = pkt + off;
    ASSERT_TRUE(pes[0] == 0 && pes[1] == 0 && pes[2] == 1);
    unsigned flags = pes[7] >> 6;
    if (flags & 2) shift(pes + 9);
    if (flags == 3) shift(pes + 14);
  }
}

TEST(TsDemuxer, ThirtyThreeBitWrapIsUnwrapped) {
  auto ts = read_fixture("av_h264_aac.ts");
  auto clean = demux(ts);
  // Move the stream so it starts 0.5 s before the 33-bit counter wraps.
  const int64_t wrap = int64_t{1} << 33;
  const int64_t delta = wrap - 45000 - 126000;
  shift_timestamps(ts, {kVideoPid, kAudioPid}, delta);
  auto wrapped = demux(ts);
  ASSERT_EQ(wrapped.size(), clean.size());
  bool crossed = false;
  for (size_t i = 0; i < clean.size(); ++i) {
    if (clean[i].type != TsDemuxEvent::Type::packet) continue;
    EXPECT_EQ(wrapped[i].packet.dts, clean[i].packet.dts + delta);
    EXPECT_EQ(wrapped[i].packet.pts, clean[i].packet.pts + delta);
    crossed |= wrapped[i].packet.dts >= wrap;
  }
  EXPECT_TRUE(crossed);
}

TEST(TsDemuxer, PesOverTheCapIsDroppedAndCounted) {
  TsDemuxerLimits limits;
  limits.max_video_pes_bytes = 2000;  // the IDRs of the fixture are bigger
  TsDemuxer d(limits);
  Summary s = summarize(demux(read_fixture("av_h264_aac.ts"), d));
  EXPECT_GT(d.stats().pes_dropped, 0u);
  EXPECT_EQ(s.keyframes, 0);
  EXPECT_EQ(s.video, 0);  // no keyframe made it, so nothing after one either
  EXPECT_EQ(s.audio, kFixtureAudioFrames);  // audio-only once the wait for video ran out
}

TEST(TsDemuxer, BadPsiCrcIsCountedAndTheNextCopyIsUsed) {
  auto ts = read_fixture("av_h264_aac.ts");
  // Corrupt the first PMT (PID 0x1000) only: ffmpeg repeats PAT/PMT, so the stream
  // comes up at the next copy.
  for (const auto& p : index_packets(ts)) {
    if (p.pid == 0x1000) {
      ts[p.offset + 20] ^= 0xFF;
      break;
    }
  }
  TsDemuxer d;
  Summary s = summarize(demux(ts, d));
  EXPECT_GE(d.stats().psi_errors, 1u);
  EXPECT_EQ(s.tracks, 1);
  EXPECT_GT(s.video, 0);
}

TEST(TsDemuxer, TransportErrorIndicatorBreaksOnlyThatPes) {
  auto ts = read_fixture("av_h264_aac.ts");
  auto third = pes_packets(ts, kVideoPid, 2);
  ts[third[1] + 1] |= 0x80;
  TsDemuxer d;
  Summary s = summarize(demux(ts, d));
  EXPECT_EQ(d.stats().transport_errors, 1u);
  EXPECT_EQ(s.video, 2 + 15);
}

}  // namespace
}  // namespace anchorcast
