#include "relay/protocol/mpegts/ts_muxer.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include "media_fixtures.hpp"
#include "relay/protocol/aac/adts.hpp"
#include "relay/protocol/h264/annexb.hpp"
#include "relay/protocol/hevc/hevc_decoder_config.hpp"
#include "relay/protocol/mpegts/crc32.hpp"
#include "relay/protocol/mpegts/pes_header.hpp"
#include "relay/protocol/mpegts/ts_demuxer.hpp"
#include "ts_inspect.hpp"

namespace anchorcast::mpegts {
namespace {

using fixtures::inspect_ts;

std::vector<uint8_t> mux(const TrackSet& tracks, const std::vector<PacketPtr>& packets, TsMuxer* muxer = nullptr) {
  TsMuxer local;
  TsMuxer& m = muxer ? *muxer : local;
  EXPECT_TRUE(m.set_tracks(tracks).ok());
  std::vector<uint8_t> out;
  m.write_tables(out);
  for (const auto& p : packets) {
    auto s = m.write_packet(*p, out);
    EXPECT_TRUE(s.ok()) << s.error().message;
  }
  return out;
}

void write_file(const std::string& path, std::span<const uint8_t> bytes) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

TEST(Crc32, MatchesTheMpeg2CheckValue) {
  const std::string check = "123456789";
  EXPECT_EQ(crc32_mpeg2(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(check.data()), check.size())),
            0x0376E6E7u);
}

TEST(TsMuxer, TablesAreByteForByteWhatFfmpegWrites) {
  // PAT and PMT packets of `ffmpeg -i small_320x180_h264_aac.flv -c copy -f mpegts`:
  // same PIDs, program 1, version 0, no descriptors (FFmpeg's SDT is not written here).
  const std::vector<uint8_t> ffmpeg_pat = {0x47, 0x40, 0x00, 0x10, 0x00, 0x00, 0xb0, 0x0d, 0x00, 0x01, 0xc1,
                                           0x00, 0x00, 0x00, 0x01, 0xf0, 0x00, 0x2a, 0xb1, 0x04, 0xb2};
  const std::vector<uint8_t> ffmpeg_pmt = {0x47, 0x50, 0x00, 0x10, 0x00, 0x02, 0xb0, 0x17, 0x00, 0x01, 0xc1,
                                           0x00, 0x00, 0xe1, 0x00, 0xf0, 0x00, 0x1b, 0xe1, 0x00, 0xf0, 0x00,
                                           0x0f, 0xe1, 0x01, 0xf0, 0x00, 0x2f, 0x44, 0xb9, 0x9b};
  TsMuxer muxer;
  ASSERT_TRUE(muxer.set_tracks(fixtures::load_small_flv().tracks).ok());
  std::vector<uint8_t> out;
  muxer.write_tables(out);
  ASSERT_EQ(out.size(), 376u);
  EXPECT_TRUE(std::equal(ffmpeg_pat.begin(), ffmpeg_pat.end(), out.begin()));
  EXPECT_TRUE(std::equal(ffmpeg_pmt.begin(), ffmpeg_pmt.end(), out.begin() + 188));
  for (size_t i = ffmpeg_pat.size(); i < 188; ++i) ASSERT_EQ(out[i], 0xFF);
}

TEST(TsMuxer, PesTimestampsAndFlagsFollowThePackets) {
  const auto flv = fixtures::load_small_flv();
  const auto out = mux(flv.tracks, flv.packets);
  const auto ts = inspect_ts(out);
  ASSERT_TRUE(ts.errors.empty()) << ts.errors.front();
  EXPECT_EQ(ts.pat_count, 1);
  EXPECT_EQ(ts.pmt_count, 1);
  EXPECT_EQ(ts.pcr_pid, 0x100);
  EXPECT_EQ(ts.stream_types.at(0x100), kStreamTypeH264);
  EXPECT_EQ(ts.stream_types.at(0x101), kStreamTypeAdtsAac);
  ASSERT_EQ(ts.pes.size(), flv.packets.size());
  auto asc = aac::parse_audio_specific_config(flv.tracks.audio->decoder_config);
  for (size_t i = 0; i < flv.packets.size(); ++i) {
    const Packet& p = *flv.packets[i];
    const auto& pes = ts.pes[i];
    SCOPED_TRACE(i);
    EXPECT_EQ(pes.pts, p.pts_in(k90kHz));
    EXPECT_EQ(pes.dts, p.dts_in(k90kHz));
    if (p.kind == MediaKind::video) {
      EXPECT_EQ(pes.pid, 0x100);
      EXPECT_EQ(pes.stream_id, kStreamIdVideo);
      EXPECT_EQ(pes.random_access, p.keyframe);
      EXPECT_TRUE(pes.has_pcr);
      EXPECT_LE(pes.pcr_base, pes.dts);
      // Annex B with an AUD first; SPS (type 7) right after it on keyframes.
      ASSERT_GE(pes.payload.size(), 11u);
      EXPECT_EQ(std::vector<uint8_t>(pes.payload.begin(), pes.payload.begin() + 6),
                std::vector<uint8_t>({0, 0, 0, 1, 0x09, 0xF0}));
      if (p.keyframe) {
        EXPECT_EQ(pes.payload[10] & 0x1F, 7);
      } else {
        EXPECT_NE(pes.payload[10] & 0x1F, 7);
      }
    } else {
      EXPECT_EQ(pes.pid, 0x101);
      EXPECT_EQ(pes.stream_id, kStreamIdAudio);
      EXPECT_FALSE(pes.has_pcr);
      auto adts = aac::parse_adts_header(pes.payload);
      ASSERT_TRUE(adts.ok());
      EXPECT_EQ(adts->frame_length, p.payload.size() + 7);
      EXPECT_EQ(adts->sampling_index, asc->sampling_index);
      EXPECT_EQ(pes.payload.size(), adts->frame_length);  // bounded PES: no trailing bytes
    }
  }
}

TEST(TsMuxer, StuffsEveryPayloadSizeAroundThePacketBoundary) {
  // Audio PES header is 14 bytes + 7 ADTS; sizes around 184 and 2 * 184 bytes of TS
  // payload (with and without the PCR that audio-only programs carry).
  for (bool audio_only : {false, true}) {
    TrackSet tracks = fixtures::load_small_flv().tracks;
    if (audio_only) tracks.video.reset();
    TsMuxer muxer;
    ASSERT_TRUE(muxer.set_tracks(tracks).ok());
    for (size_t size = 140; size < 400; ++size) {
      Packet p;
      p.kind = MediaKind::audio;
      p.codec = Codec::aac;
      p.keyframe = true;
      p.dts = p.pts = static_cast<int64_t>(size);
      for (size_t i = 0; i < size; ++i) p.payload.push_back(static_cast<uint8_t>(i));
      std::vector<uint8_t> out;
      ASSERT_TRUE(muxer.write_packet(p, out).ok());
      auto ts = inspect_ts(out);
      ASSERT_TRUE(ts.errors.empty()) << size << ": " << ts.errors.front();
      ASSERT_EQ(ts.pes.size(), 1u);
      EXPECT_EQ(ts.pes[0].payload.size(), size + 7) << size;
      EXPECT_TRUE(std::equal(p.payload.begin(), p.payload.end(), ts.pes[0].payload.begin() + 7));
      EXPECT_EQ(ts.pes[0].has_pcr, audio_only);
      const size_t overhead = 14 + 7 + (audio_only ? 8 : 2);  // PES + ADTS + AF (flags[, PCR])
      EXPECT_EQ(ts.packets, (size + overhead + 183) / 184) << size;
    }
  }
}

TEST(TsMuxer, TimestampsWrapAt33Bits) {
  EXPECT_EQ(to_33_bits((int64_t{1} << 33) + 5), 5u);
  EXPECT_EQ(to_33_bits(-1), (uint64_t{1} << 33) - 1);
  std::array<uint8_t, kMaxPesHeaderSize> h;
  EXPECT_EQ(write_pes_header(kStreamIdAudio, 100, 100, 10, false, h), 14u);
  EXPECT_EQ(h[4] * 256 + h[5], 3 + 5 + 10);
  EXPECT_EQ(write_pes_header(kStreamIdVideo, 200, 100, 10, true, h), 19u);
  EXPECT_EQ(h[4] * 256 + h[5], 0);
}

TEST(TsMuxer, RefusesPacketsOfTracksItDoesNotHave) {
  TrackSet tracks = fixtures::load_small_flv().tracks;
  tracks.audio.reset();
  TsMuxer muxer;
  ASSERT_TRUE(muxer.set_tracks(tracks).ok());
  Packet audio;
  audio.kind = MediaKind::audio;
  audio.codec = Codec::aac;
  audio.payload = {1, 2, 3};
  std::vector<uint8_t> out;
  EXPECT_FALSE(muxer.write_packet(audio, out).ok());
  Packet bad_video;
  bad_video.payload = {0, 0, 0, 9, 0x65};
  EXPECT_FALSE(muxer.write_packet(bad_video, out).ok());
  EXPECT_TRUE(out.empty());
  TrackSet broken = tracks;
  broken.video->decoder_config = {1, 2, 3};
  EXPECT_FALSE(muxer.set_tracks(broken).ok());
  EXPECT_FALSE(muxer.has_video());
}

TEST(TsMuxer, PmtVersionMovesWhenTheStreamsChange) {
  TrackSet tracks = fixtures::load_small_flv().tracks;
  TsMuxer muxer;
  ASSERT_TRUE(muxer.set_tracks(tracks).ok());
  std::vector<uint8_t> out;
  muxer.write_tables(out);
  tracks.audio.reset();
  ASSERT_TRUE(muxer.set_tracks(tracks).ok());
  muxer.write_tables(out);
  EXPECT_EQ((out[188 + 10] >> 1) & 0x1F, 0);
  EXPECT_EQ((out[3 * 188 + 10] >> 1) & 0x1F, 1);
  auto ts = inspect_ts(out);
  EXPECT_TRUE(ts.errors.empty());
}

// The real demuxer and decoder: FFmpeg reads what we wrote with the right codecs,
// every packet with its timestamps, and decodes every video frame.
TEST(TsMuxer, FfprobeReadsAndDecodesTheMuxedStream) {
  const auto flv = fixtures::load_small_flv();
  const auto packets = fixtures::repeat_packets(flv.packets, 3, 800);
  const auto path = fixtures::temp_path(".ts");
  write_file(path, mux(flv.tracks, packets));
  int status = -1;
  const auto streams = fixtures::run_command(
      "ffprobe -v error -show_entries stream=codec_name,width,height,sample_rate,channels -of compact " + path,
      &status);
  EXPECT_EQ(status, 0);
  EXPECT_NE(streams.find("codec_name=h264|width=320|height=180"), std::string::npos) << streams;
  EXPECT_NE(streams.find("codec_name=aac|sample_rate=48000|channels=1"), std::string::npos) << streams;

  const auto listing = fixtures::run_command(
      "ffprobe -v error -show_entries packet=codec_type,pts,dts -of csv=p=0 " + path, &status);
  EXPECT_EQ(status, 0);
  // Per stream, in order (across streams the TS demuxer emits an unbounded video PES
  // only when the next one starts, so the interleaving differs from ours).
  std::map<std::string, std::vector<std::string>> expected, got;
  for (const auto& p : packets)
    expected[p->kind == MediaKind::video ? "video" : "audio"].push_back(
        std::to_string(p->pts_in(k90kHz)) + "," + std::to_string(p->dts_in(k90kHz)));
  std::istringstream lines(listing);
  for (std::string line; std::getline(lines, line);) {
    while (!line.empty() && line.back() == ',') line.pop_back();
    const auto comma = line.find(',');
    if (comma == std::string::npos) continue;
    got[line.substr(0, comma)].push_back(line.substr(comma + 1));
  }
  EXPECT_EQ(got, expected);

  const auto frames = fixtures::run_command(
      "ffprobe -v error -select_streams v -count_frames -show_entries stream=nb_read_frames -of csv=p=0 " + path,
      &status);
  EXPECT_EQ(status, 0);
  EXPECT_EQ(std::stoi(frames), 60);  // 3 x 20 frames, all decoded

  // A full decode of both streams complains about nothing (timestamps, continuity,
  // missing parameter sets, ADTS).
  const auto warnings = fixtures::run_command("ffmpeg -nostdin -v warning -i " + path + " -f null - 2>&1", &status);
  EXPECT_EQ(status, 0);
  EXPECT_EQ(warnings, "");
  std::remove(path.c_str());
}

// --- HEVC --------------------------------------------------------------------------

// tests/data/srt/hevc.ts (x265 via ffmpeg, README there) through our demuxer: the tracks
// (with the record built from the in-band parameter sets) and the hvcC-framed packets an
// SRT publisher of HEVC gives the hub.
struct DemuxedTs {
  TrackSet tracks;
  std::vector<PacketPtr> packets;
};

DemuxedTs demux_fixture(const std::string& name) {
  const auto bytes = fixtures::read_file(std::string(ANCHORCAST_TEST_DATA) + "/srt/" + name);
  TsDemuxer d;
  std::vector<TsDemuxEvent> events;
  d.feed(bytes, events);
  d.finish(events);
  DemuxedTs out;
  for (auto& e : events) {
    if (e.type == TsDemuxEvent::Type::tracks)
      out.tracks = e.tracks;
    else
      out.packets.push_back(std::make_shared<const Packet>(std::move(e.packet)));
  }
  return out;
}

std::vector<TsDemuxEvent> demux_bytes(std::span<const uint8_t> ts) {
  TsDemuxer d;
  std::vector<TsDemuxEvent> events;
  d.feed(ts, events);
  d.finish(events);
  EXPECT_EQ(d.stats().es_errors, 0u);
  EXPECT_EQ(d.stats().cc_errors, 0u);
  return events;
}

TEST(TsMuxer, HevcIsStreamType0x24WithAnAudFirstAndParameterSetsBeforeEachIrap) {
  const auto hevc = demux_fixture("hevc.ts");
  ASSERT_TRUE(hevc.tracks.video);
  ASSERT_EQ(hevc.tracks.video->codec, Codec::hevc);
  ASSERT_EQ(hevc.packets.size(), 15u);
  // Twice over, so the second IRAP shows the parameter sets are repeated, not sent once.
  const auto packets = [&] {
    auto twice = hevc.packets;
    const int64_t shift = 15 * 3000;
    for (const auto& p : hevc.packets) {
      auto copy = std::make_shared<Packet>(*p);
      copy->dts += shift;
      copy->pts += shift;
      twice.push_back(std::move(copy));
    }
    return twice;
  }();
  TsMuxer muxer;
  ASSERT_TRUE(muxer.set_tracks(hevc.tracks).ok());
  EXPECT_TRUE(muxer.has_video());
  const auto out = mux(hevc.tracks, packets);
  const auto ts = inspect_ts(out);
  ASSERT_TRUE(ts.errors.empty()) << ts.errors.front();
  EXPECT_EQ(ts.stream_types.at(0x100), kStreamTypeHevc);
  EXPECT_EQ(ts.pcr_pid, 0x100);
  ASSERT_EQ(ts.pes.size(), packets.size());

  auto record = hevc::parse_hevc_decoder_config(hevc.tracks.video->decoder_config);
  ASSERT_TRUE(record.ok());
  std::vector<uint8_t> parameter_sets;  // VPS, SPS, PPS behind start codes
  for (const auto& array : record->arrays) {
    parameter_sets.insert(parameter_sets.end(), {0, 0, 0, 1});
    parameter_sets.insert(parameter_sets.end(), array.nal_units[0].begin(), array.nal_units[0].end());
  }
  // AUD: type 35, layer 0, TemporalId 0 (x265 sends one temporal layer), pic_type 2.
  const std::vector<uint8_t> aud = {0, 0, 0, 1, 0x46, 0x01, 0x50};
  int irap_pes = 0;
  for (size_t i = 0; i < packets.size(); ++i) {
    SCOPED_TRACE(i);
    const auto& pes = ts.pes[i];
    const Packet& p = *packets[i];
    EXPECT_EQ(pes.pid, 0x100);
    EXPECT_EQ(pes.stream_id, kStreamIdVideo);
    EXPECT_EQ(pes.pts, p.pts_in(k90kHz));
    EXPECT_EQ(pes.dts, p.dts_in(k90kHz));
    EXPECT_EQ(pes.random_access, p.keyframe);
    ASSERT_GT(pes.payload.size(), aud.size() + parameter_sets.size());
    EXPECT_TRUE(std::equal(aud.begin(), aud.end(), pes.payload.begin()));
    const bool has_parameter_sets =
        std::equal(parameter_sets.begin(), parameter_sets.end(), pes.payload.begin() + 7);
    EXPECT_EQ(has_parameter_sets, p.keyframe);
    irap_pes += has_parameter_sets;
    // The rest is the access unit's own NAL units, in order, behind start codes.
    std::vector<uint8_t> rest;
    h264::annexb_to_avcc(std::span<const uint8_t>(pes.payload).subspan(7 + (has_parameter_sets ? parameter_sets.size() : 0)),
                         rest);
    EXPECT_TRUE(std::equal(rest.begin(), rest.end(), p.bytes().begin(), p.bytes().end()));
  }
  EXPECT_EQ(irap_pes, 2);
}

TEST(TsMuxer, HevcRoundTripsThroughTheDemuxer) {
  const auto hevc = demux_fixture("hevc.ts");
  const auto events = demux_bytes(mux(hevc.tracks, hevc.packets));
  ASSERT_EQ(events.size(), hevc.packets.size() + 1);
  ASSERT_EQ(events[0].type, TsDemuxEvent::Type::tracks);
  EXPECT_EQ(events[0].tracks, hevc.tracks);  // the same record, rebuilt from what we wrote
  for (size_t i = 0; i < hevc.packets.size(); ++i) {
    SCOPED_TRACE(i);
    const Packet& sent = *hevc.packets[i];
    const Packet& got = events[i + 1].packet;
    EXPECT_EQ(got.codec, Codec::hevc);
    EXPECT_EQ(got.keyframe, sent.keyframe);
    EXPECT_EQ(got.dts, sent.dts);
    EXPECT_EQ(got.pts, sent.pts);
    EXPECT_TRUE(std::ranges::equal(got.bytes(), sent.bytes()));
  }
}

TEST(TsMuxer, HevcAudioAndVideoShareTheProgram) {
  const auto hevc = demux_fixture("hevc.ts");
  TrackSet tracks = hevc.tracks;
  tracks.audio = fixtures::load_small_flv().tracks.audio;
  std::vector<PacketPtr> packets = hevc.packets;
  Packet audio;
  audio.kind = MediaKind::audio;
  audio.codec = Codec::aac;
  audio.keyframe = true;
  audio.time_base = k90kHz;
  audio.dts = audio.pts = hevc.packets[0]->dts;
  audio.payload = {0x21, 0x10, 0x05};
  packets.push_back(std::make_shared<const Packet>(audio));
  const auto ts = inspect_ts(mux(tracks, packets));
  ASSERT_TRUE(ts.errors.empty()) << ts.errors.front();
  EXPECT_EQ(ts.stream_types.at(0x100), kStreamTypeHevc);
  EXPECT_EQ(ts.stream_types.at(0x101), kStreamTypeAdtsAac);
  EXPECT_EQ(ts.pes.size(), packets.size());
}

TEST(TsMuxer, HevcPacketsNeedAnHevcTrackAndValidUnits) {
  const auto hevc = demux_fixture("hevc.ts");
  TsMuxer h264_only;
  ASSERT_TRUE(h264_only.set_tracks(fixtures::load_small_flv().tracks).ok());
  std::vector<uint8_t> out;
  auto refused = h264_only.write_packet(*hevc.packets[0], out);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("HEVC"), std::string::npos) << refused.error().message;

  TsMuxer muxer;
  ASSERT_TRUE(muxer.set_tracks(hevc.tracks).ok());
  Packet bad = *hevc.packets[1];
  bad.payload[4] |= 0x80;  // forbidden_zero_bit of the first unit
  EXPECT_FALSE(muxer.write_packet(bad, out).ok());
  Packet h264 = *fixtures::tiny_video(0, true);
  EXPECT_FALSE(muxer.write_packet(h264, out).ok());
  EXPECT_TRUE(out.empty());

  TrackSet broken = hevc.tracks;
  broken.video->decoder_config.resize(10);
  auto st = muxer.set_tracks(broken);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("HEVCDecoderConfigurationRecord"), std::string::npos) << st.error().message;
  EXPECT_FALSE(muxer.has_video());
}

TEST(TsMuxer, PmtVersionMovesWhenTheVideoCodecChanges) {
  TsMuxer muxer;
  std::vector<uint8_t> out;
  ASSERT_TRUE(muxer.set_tracks(fixtures::load_small_flv().tracks).ok());
  muxer.write_tables(out);
  ASSERT_TRUE(muxer.set_tracks(demux_fixture("hevc.ts").tracks).ok());
  muxer.write_tables(out);
  auto ts = inspect_ts(out);
  EXPECT_TRUE(ts.errors.empty());
  EXPECT_EQ((out[188 + 10] >> 1) & 0x1F, 0);
  EXPECT_EQ((out[3 * 188 + 10] >> 1) & 0x1F, 1);
  EXPECT_EQ(ts.stream_types.at(0x100), kStreamTypeHevc);  // the latest PMT
}

// The real decoder: FFmpeg decodes what we muxed frame for frame like the source TS
// x265 wrote (per-frame MD5 of the decoded pictures), and says nothing about it.
TEST(TsMuxer, FfmpegDecodesMuxedHevcExactlyLikeTheSource) {
  const auto hevc = demux_fixture("hevc.ts");
  const auto path = fixtures::temp_path(".ts");
  write_file(path, mux(hevc.tracks, hevc.packets));
  const std::string source = std::string(ANCHORCAST_TEST_DATA) + "/srt/hevc.ts";
  int status = -1;
  const auto expected = fixtures::run_command(
      "ffmpeg -nostdin -v error -i " + source + " -map 0:v -f framemd5 - 2>&1 | grep -v '^#'", &status);
  EXPECT_EQ(status, 0);
  const auto got = fixtures::run_command(
      "ffmpeg -nostdin -v error -i " + path + " -map 0:v -f framemd5 - 2>&1 | grep -v '^#'", &status);
  EXPECT_EQ(status, 0);
  EXPECT_EQ(std::count(expected.begin(), expected.end(), '\n'), 15) << expected;
  EXPECT_EQ(got, expected);
  const auto warnings = fixtures::run_command("ffmpeg -nostdin -v warning -i " + path + " -f null - 2>&1", &status);
  EXPECT_EQ(status, 0);
  EXPECT_EQ(warnings, "");
  std::remove(path.c_str());
}

}  // namespace
}  // namespace anchorcast::mpegts
