// The ID3 timed metadata stream of our TS (Apple "Timed Metadata for HTTP Live
// Streaming"): PMT entries and descriptors, PES framing, and the HLS packager's use.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <fstream>

#include "media_fixtures.hpp"
#include "relay/egress/hls/hls_packager.hpp"
#include "relay/protocol/id3/id3_tag.hpp"
#include "relay/protocol/mpegts/ts_muxer.hpp"
#include "ts_inspect.hpp"

namespace anchorcast {
namespace {

std::vector<uint8_t> find_bytes_after(std::span<const uint8_t> hay, std::span<const uint8_t> needle) {
  auto it = std::search(hay.begin(), hay.end(), needle.begin(), needle.end());
  if (it == hay.end()) return {};
  return std::vector<uint8_t>(it, std::min(hay.end(), it + 17));
}

TEST(TsTimedMetadata, PmtAnnouncesAnId3StreamWithBothDescriptors) {
  mpegts::TsMuxer muxer({.timed_metadata = true});
  ASSERT_TRUE(muxer.set_tracks(fixtures::load_small_flv().tracks).ok());
  std::vector<uint8_t> out;
  muxer.write_tables(out);
  auto ts = fixtures::inspect_ts(out);
  EXPECT_TRUE(ts.errors.empty()) << ts.errors.front();
  EXPECT_EQ(ts.stream_types.at(0x100), 0x1B);
  EXPECT_EQ(ts.stream_types.at(0x101), 0x0F);
  EXPECT_EQ(ts.stream_types.at(0x102), 0x15);
  const std::span<const uint8_t> pmt(out.data() + 188, 188);
  const uint8_t pointer[] = {0x25, 15, 0xFF, 0xFF, 'I', 'D', '3', ' ', 0xFF, 'I', 'D', '3', ' ', 0x00, 0x1F, 0x00, 0x01};
  EXPECT_EQ(find_bytes_after(pmt, std::span(pointer, 4)), std::vector<uint8_t>(std::begin(pointer), std::end(pointer)));
  const uint8_t descriptor[] = {0x26, 13, 0xFF, 0xFF, 'I', 'D', '3', ' ', 0xFF, 'I', 'D', '3', ' ', 0x00, 0x0F};
  auto found = find_bytes_after(pmt, std::span(descriptor, 4));
  ASSERT_GE(found.size(), std::size(descriptor));
  EXPECT_TRUE(std::equal(std::begin(descriptor), std::end(descriptor), found.begin()));
}

TEST(TsTimedMetadata, WithoutTheOptionThePmtIsUnchanged) {
  mpegts::TsMuxer muxer;
  ASSERT_TRUE(muxer.set_tracks(fixtures::load_small_flv().tracks).ok());
  std::vector<uint8_t> out;
  muxer.write_tables(out);
  auto ts = fixtures::inspect_ts(out);
  EXPECT_EQ(ts.stream_types.size(), 2u);
  EXPECT_FALSE(muxer.write_timed_metadata(0, std::vector<uint8_t>{1}, out).ok());
}

TEST(TsTimedMetadata, A2KiBTagIsOnePesWithPtsOnPrivateStream1) {
  mpegts::TsMuxer muxer({.timed_metadata = true});
  ASSERT_TRUE(muxer.set_tracks(fixtures::load_small_flv().tracks).ok());
  auto tag = *id3::build_txxx_tag("anchorcast", std::string(2000, 'j'));
  std::vector<uint8_t> out;
  muxer.write_tables(out);
  ASSERT_TRUE(muxer.write_timed_metadata(90 * 12345, tag, out).ok());
  ASSERT_TRUE(muxer.write_timed_metadata(90 * 12400, tag, out).ok());
  auto ts = fixtures::inspect_ts(out);
  ASSERT_TRUE(ts.errors.empty()) << ts.errors.front();  // continuity counters, PES lengths
  ASSERT_EQ(ts.pes.size(), 2u);
  EXPECT_EQ(ts.pes[0].pid, 0x102);
  EXPECT_EQ(ts.pes[0].stream_id, 0xBD);
  EXPECT_EQ(ts.pes[0].pts, 90 * 12345);
  EXPECT_EQ(ts.pes[0].dts, ts.pes[0].pts);  // no DTS field
  EXPECT_FALSE(ts.pes[0].has_pcr);
  EXPECT_EQ(ts.pes[0].payload, tag);
  EXPECT_EQ(ts.pes[1].pts, 90 * 12400);
}

TEST(TsTimedMetadata, PmtLeavesOutStreamsThatWouldOverflowThePacket) {
  const std::vector<uint8_t> info(30, 0xAA);  // opaque to the writer: only its length matters
  std::array<mpegts::PmtStream, 8> streams;
  for (uint16_t i = 0; i < streams.size(); ++i) streams[i] = {0x06, static_cast<uint16_t>(0x200 + i), info};
  std::array<uint8_t, mpegts::kPacketSize> packet;
  mpegts::write_pmt_packet(0x1000, 1, 0, 0x1FFF, streams, 0, packet);
  // inspect_ts finds the PMT through a PAT.
  std::vector<uint8_t> ts(mpegts::kPacketSize);
  mpegts::write_pat_packet(1, 1, 0x1000, 0, 0, std::span<uint8_t, mpegts::kPacketSize>(ts.data(), mpegts::kPacketSize));
  ts.insert(ts.end(), packet.begin(), packet.end());
  auto inspected = fixtures::inspect_ts(ts);
  EXPECT_TRUE(inspected.errors.empty()) << inspected.errors.front();  // CRC over a section that fits
  EXPECT_EQ(inspected.stream_types.size(), 4u);  // 167 bytes of room: 4 x 35
}

TEST(TsTimedMetadata, RefusesATagOverOnePes) {
  mpegts::TsMuxer muxer({.timed_metadata = true});
  std::vector<uint8_t> out;
  EXPECT_FALSE(muxer.write_timed_metadata(0, std::vector<uint8_t>(mpegts::kMaxTimedMetadataSize + 1), out).ok());
  EXPECT_TRUE(out.empty());
}

// ---- in HLS segments ----

PacketPtr video(int64_t dts_ms, bool key) { return fixtures::tiny_video(dts_ms, key); }

std::vector<std::string> cue_texts(const fixtures::InspectedTs& ts, std::vector<int64_t>* pts = nullptr) {
  std::vector<std::string> out;
  for (const auto& pes : ts.pes) {
    if (pes.pid != 0x102) continue;
    auto tag = id3::parse_tag(pes.payload);
    EXPECT_TRUE(tag.ok());
    if (!tag || tag->frames.empty()) continue;
    auto text = id3::parse_txxx(tag->frames[0].body);
    EXPECT_TRUE(text.ok());
    EXPECT_EQ(text->description, "anchorcast");
    out.push_back(text->value);
    if (pts) pts->push_back(pes.pts);
  }
  return out;
}

TEST(HlsTimedId3, CueIsWrittenAtItsPtsAndRepeatedAtTheNextSegmentStart) {
  HlsPackager hls({.target_duration_ms = 1000, .window_segments = 6},
                  [] { return std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000)); });
  hls.on_event(MediaEvent::of_tracks(std::make_shared<const TrackSet>(fixtures::load_small_flv().tracks), true));
  const std::string json = R"({"type":"overlays","version":5,"pts_ms":520,"overlays":[{"id":"c1","url":"https://x"}]})";
  for (int64_t t = 0; t < 2040; t += 40) {
    hls.on_event(MediaEvent::of_packet(video(t, t % 1000 == 0)));
    if (t == 480) hls.on_event(MediaEvent::of_cue(std::make_shared<const Cue>(Cue{520, 5, json})));
  }
  auto seg0 = hls.segment("seg-0.ts");
  auto seg1 = hls.segment("seg-1.ts");
  ASSERT_TRUE(seg0 && seg1);
  auto ts0 = fixtures::inspect_ts(std::span(reinterpret_cast<const uint8_t*>(seg0->data()), seg0->size()));
  auto ts1 = fixtures::inspect_ts(std::span(reinterpret_cast<const uint8_t*>(seg1->data()), seg1->size()));
  ASSERT_TRUE(ts0.errors.empty()) << ts0.errors.front();
  ASSERT_TRUE(ts1.errors.empty()) << ts1.errors.front();
  std::vector<int64_t> pts0, pts1;
  EXPECT_EQ(cue_texts(ts0, &pts0), std::vector<std::string>{json});
  EXPECT_EQ(pts0, std::vector<int64_t>{520 * 90});
  EXPECT_EQ(cue_texts(ts1, &pts1), std::vector<std::string>{json});
  EXPECT_EQ(pts1, std::vector<int64_t>{1000 * 90});  // the state, for a player starting here
}

TEST(HlsTimedId3, CueTooBigForOnePesLeavesTheSegmentsWithoutId3ButInThePlaylist) {
  HlsPackager hls({.target_duration_ms = 1000, .window_segments = 6},
                  [] { return std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000)); });
  hls.on_event(MediaEvent::of_tracks(std::make_shared<const TrackSet>(fixtures::load_small_flv().tracks), true));
  const std::string huge = R"({"type":"overlays","version":1,"pts_ms":0,"overlays":[{"id":"c1","note":")" +
                           std::string(70000, 'n') + R"("}]})";
  hls.on_event(MediaEvent::of_cue(std::make_shared<const Cue>(Cue{0, 1, huge})));
  for (int64_t t = 0; t < 2040; t += 40) hls.on_event(MediaEvent::of_packet(video(t, t % 1000 == 0)));
  auto seg = hls.segment("seg-1.ts");
  ASSERT_TRUE(seg);
  auto ts = fixtures::inspect_ts(std::span(reinterpret_cast<const uint8_t*>(seg->data()), seg->size()));
  EXPECT_FALSE(ts.stream_types.contains(0x102));
  EXPECT_TRUE(cue_texts(ts).empty());
  EXPECT_NE(hls.playlist()->find("ID=\"c1-v1\""), std::string::npos);
}

// FFmpeg reads our ID3 stream as timed_id3 (its mpegts demuxer keys on stream_type 0x15
// plus the metadata_descriptor's "ID3 "), first segment included, and decodes the rest
// without a warning. (FFmpeg drops the first 5 bytes of each 0x15 PES, taking them for
// an H.222.0 §2.12.4 AU cell header that Apple's format has not; the TXXX frame stays
// whole, which is what is looked for here.)
TEST(HlsTimedId3, FfprobeSeesATimedId3StreamCarryingTheCue) {
  const auto flv = fixtures::load_small_flv();
  HlsPackager hls({.target_duration_ms = 1000, .window_segments = 10},
                  [] { return std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000)); });
  hls.on_event(MediaEvent::of_tracks(std::make_shared<const TrackSet>(flv.tracks), true));
  const std::string json = R"({"type":"overlays","version":2,"pts_ms":300,"overlays":[{"id":"c1","title":"真丝"}]})";
  size_t n = 0;
  for (const auto& p : fixtures::repeat_packets(flv.packets, 3, 800)) {
    hls.on_event(MediaEvent::of_packet(p));
    if (++n == 20) hls.on_event(MediaEvent::of_cue(std::make_shared<const Cue>(Cue{300, 2, json})));
  }
  hls.on_event(MediaEvent::publisher_left());
  const auto path = fixtures::temp_path(".ts");
  {
    std::ofstream f(path, std::ios::binary);
    for (uint64_t i = 0; auto data = hls.segment("seg-" + std::to_string(i) + ".ts"); ++i) f << *data;
  }
  int status = -1;
  const auto streams = fixtures::run_command(
      "ffprobe -v error -show_entries stream=codec_name,codec_type -of compact " + path, &status);
  EXPECT_EQ(status, 0);
  EXPECT_NE(streams.find("codec_name=timed_id3|codec_type=data"), std::string::npos) << streams;
  const auto packets = fixtures::run_command(
      "ffprobe -v error -select_streams d -show_packets -show_data " + path, &status);
  EXPECT_NE(packets.find("anchorcast"), std::string::npos) << packets;
  const auto warnings = fixtures::run_command("ffmpeg -nostdin -v warning -i " + path + " -map 0:v -map 0:a -f null - 2>&1", &status);
  EXPECT_EQ(status, 0);
  EXPECT_EQ(warnings, "");
  std::remove(path.c_str());
}

}  // namespace
}  // namespace anchorcast
