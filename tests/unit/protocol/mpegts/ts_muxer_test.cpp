#include "relay/protocol/mpegts/ts_muxer.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include "media_fixtures.hpp"
#include "relay/protocol/aac/adts.hpp"
#include "relay/protocol/mpegts/crc32.hpp"
#include "relay/protocol/mpegts/pes_header.hpp"
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

}  // namespace
}  // namespace anchorcast::mpegts
