// HEVC streams as fMP4 HLS: the packager fed the libx265 fixture (tests/support/
// hevc_fixture.hpp) lists `.m4s` segments behind an EXT-X-MAP, and what it serves parses
// (box walker) and plays (FFmpeg's HLS demuxer reading the playlist from disk).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>

#include "anchorcast/egress/hls_service.hpp"
#include "hevc_fixture.hpp"
#include "media_fixtures.hpp"
#include "mp4_boxes.hpp"
#include "relay/egress/hls/hls_packager.hpp"
#include "relay/protocol/h264/nal_unit.hpp"
#include "relay/protocol/hevc/hevc_decoder_config.hpp"
#include "relay/protocol/id3/id3_tag.hpp"

namespace anchorcast {
namespace {

using fixtures::find_box;

HlsPackager::WallClock fixed_clock() {
  return [] { return std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000)); };
}

MediaEvent tracks_event(const TrackSet& tracks, bool new_session) {
  return MediaEvent::of_tracks(std::make_shared<const TrackSet>(tracks), new_session);
}

// The fixture's packets `offset_ms` later, as the hub's timeline continues into a new session.
std::vector<PacketPtr> shifted(const std::vector<PacketPtr>& packets, int64_t offset_ms) {
  std::vector<PacketPtr> out;
  for (const auto& p : packets) {
    Packet copy = *p;
    copy.dts += rescale(offset_ms, kMillis, copy.time_base);
    copy.pts += rescale(offset_ms, kMillis, copy.time_base);
    out.push_back(std::make_shared<const Packet>(std::move(copy)));
  }
  return out;
}

void feed(HlsPackager& hls, const std::vector<PacketPtr>& packets) {
  for (const auto& p : packets) hls.on_event(MediaEvent::of_packet(p));
}

// Every URI line and tag line of the playlist, in order.
std::vector<std::string> lines(const std::string& playlist) {
  std::vector<std::string> out;
  std::istringstream in(playlist);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::vector<std::string> uris(const std::string& playlist) {
  std::vector<std::string> out;
  for (const auto& l : lines(playlist))
    if (!l.empty() && l[0] != '#') out.push_back(l);
  return out;
}

std::vector<std::string> maps(const std::string& playlist) {
  std::vector<std::string> out;
  std::regex re("#EXT-X-MAP:URI=\"([^\"]+)\"");
  for (auto it = std::sregex_iterator(playlist.begin(), playlist.end(), re); it != std::sregex_iterator(); ++it)
    out.push_back((*it)[1]);
  return out;
}

std::span<const uint8_t> bytes_of(const std::shared_ptr<const std::string>& s) {
  return {reinterpret_cast<const uint8_t*>(s->data()), s->size()};
}

// The sample entry type and config box of an init section's first trak.
std::string sample_entry(const std::shared_ptr<const std::string>& init) {
  const auto mp4 = fixtures::walk_mp4(bytes_of(init));
  EXPECT_TRUE(mp4.errors.empty());
  const auto* stsd = find_box(mp4.boxes, "moov/trak/mdia/minf/stbl/stsd");
  if (!stsd || stsd->children.empty()) return "";
  return stsd->children[0].type;
}

std::vector<uint8_t> hvcc_of(const std::shared_ptr<const std::string>& init) {
  const auto mp4 = fixtures::walk_mp4(bytes_of(init));
  const auto* hvcc = find_box(mp4.boxes, "moov/trak/mdia/minf/stbl/stsd/hvc1/hvcC");
  if (!hvcc) return {};
  return {hvcc->payload.begin(), hvcc->payload.end()};
}

TEST(HlsFmp4, HevcStreamGetsFmp4SegmentsBehindAMap) {
  const auto fixture = fixtures::load_hevc_fixture();
  HlsPackager hls({.target_duration_ms = 300, .window_segments = 6}, fixed_clock());
  hls.on_event(tracks_event(fixture.tracks, true));
  feed(hls, fixture.packets);
  hls.on_event(MediaEvent::publisher_left());
  const auto playlist = hls.playlist();
  ASSERT_TRUE(playlist);
  // One segment per GOP (keyframes every 0.4 s, target 0.3 s; the first GOP has 9
  // frames in decode order).
  EXPECT_EQ(lines(*playlist)[1], "#EXT-X-VERSION:7");
  EXPECT_EQ(maps(*playlist), std::vector<std::string>{"init-0.mp4"});
  EXPECT_EQ(uris(*playlist), (std::vector<std::string>{"seg-0.m4s", "seg-1.m4s", "seg-2.m4s"}));
  EXPECT_LT(playlist->find("#EXT-X-MAP"), playlist->find("seg-0.m4s"));
  EXPECT_NE(playlist->find("#EXTINF:0.360,\nseg-0.m4s"), std::string::npos) << *playlist;

  const auto init = hls.segment("init-0.mp4");
  ASSERT_TRUE(init);
  EXPECT_EQ(sample_entry(init), "hvc1");
  auto record = hevc::parse_hevc_decoder_config(hvcc_of(init));
  ASSERT_TRUE(record.ok()) << record.error().message;
  for (const auto& array : record->arrays) EXPECT_TRUE(array.complete);

  size_t video_samples = 0;
  for (const auto& name : uris(*playlist)) {
    SCOPED_TRACE(name);
    const auto data = hls.segment(name);
    ASSERT_TRUE(data);
    const auto mp4 = fixtures::walk_mp4(bytes_of(data));
    ASSERT_TRUE(mp4.errors.empty()) << mp4.errors.front();
    ASSERT_GE(mp4.boxes.size(), 3u);
    EXPECT_EQ(mp4.boxes.front().type, "styp");
    EXPECT_EQ(mp4.boxes.back().type, "mdat");
    const auto* moof = &mp4.boxes[mp4.boxes.size() - 2];
    ASSERT_EQ(moof->type, "moof");
    const auto* video = find_box(moof->children, "traf");
    ASSERT_TRUE(video);
    EXPECT_EQ(fixtures::be32_at(find_box(video->children, "tfhd")->payload, 4), 1u);
    const auto trun = fixtures::parse_trun(*find_box(video->children, "trun"));
    ASSERT_FALSE(trun.samples.empty());
    EXPECT_EQ(trun.samples[0].flags, 0x02000000u) << "each segment starts with a sync sample";
    video_samples += trun.samples.size();
  }
  EXPECT_EQ(video_samples, 30u);
  // Names keep their format: no TS under an fMP4 segment's number, no unknown init.
  EXPECT_FALSE(hls.segment("seg-0.ts"));
  EXPECT_FALSE(hls.segment("init-1.mp4"));
  EXPECT_FALSE(hls.segment("init-.mp4"));
}

// What a player does: FFmpeg's HLS demuxer reads the playlist, fetches the EXT-X-MAP and
// the segments, and decodes every frame of both tracks.
TEST(HlsFmp4, FfprobePlaysThePlaylistFromDisk) {
  const auto fixture = fixtures::load_hevc_fixture();
  HlsPackager hls({.target_duration_ms = 300, .window_segments = 6}, fixed_clock());
  hls.on_event(tracks_event(fixture.tracks, true));
  feed(hls, fixture.packets);
  hls.on_event(MediaEvent::publisher_left());
  hls.on_event(MediaEvent::closed());  // EXT-X-ENDLIST: FFmpeg reads it as a whole, not live
  const auto playlist = hls.playlist();
  ASSERT_TRUE(playlist);
  const auto dir = std::filesystem::path(fixtures::temp_path("-hls"));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "index.m3u8") << *playlist;
  auto files = uris(*playlist);
  files.push_back("init-0.mp4");
  for (const auto& name : files) {
    const auto data = hls.segment(name);
    ASSERT_TRUE(data) << name;
    std::ofstream(dir / name, std::ios::binary) << *data;
  }
  size_t audio = 0;
  for (const auto& p : fixture.packets) audio += p->kind == MediaKind::audio;
  int status = -1;
  const auto streams = fixtures::run_command(
      "ffprobe -v error -count_frames -show_entries stream=codec_name,codec_tag_string,width,height,nb_read_frames "
      "-of compact " + (dir / "index.m3u8").string(), &status);
  EXPECT_EQ(status, 0);
  EXPECT_NE(streams.find("codec_name=hevc|codec_tag_string=hvc1|width=320|height=240|nb_read_frames=30"),
            std::string::npos)
      << streams;
  EXPECT_NE(streams.find("codec_name=aac|codec_tag_string=mp4a|nb_read_frames=" + std::to_string(audio)),
            std::string::npos)
      << streams;
  const auto warnings = fixtures::run_command(
      "ffmpeg -nostdin -v warning -i " + (dir / "index.m3u8").string() + " -f null - 2>&1", &status);
  EXPECT_EQ(status, 0);
  EXPECT_EQ(warnings, "");
  std::filesystem::remove_all(dir);
}

// A TS publisher sends no record: the init's hvcC comes from the first keyframe's
// parameter sets, the same one the record would have given.
TEST(HlsFmp4, ParameterSetsOnlyInBandGiveTheSameInit) {
  const auto fixture = fixtures::load_hevc_fixture();
  const auto in_band = fixtures::with_parameter_sets_in_band(fixture);
  ASSERT_TRUE(in_band.tracks.video->decoder_config.empty());
  HlsPackager with_record({.target_duration_ms = 300, .window_segments = 6}, fixed_clock());
  HlsPackager without({.target_duration_ms = 300, .window_segments = 6}, fixed_clock());
  with_record.on_event(tracks_event(fixture.tracks, true));
  without.on_event(tracks_event(in_band.tracks, true));
  feed(with_record, fixture.packets);
  feed(without, in_band.packets);
  ASSERT_TRUE(without.playlist());
  EXPECT_EQ(*without.playlist(), *with_record.playlist());
  ASSERT_TRUE(without.segment("init-0.mp4"));
  EXPECT_EQ(*without.segment("init-0.mp4"), *with_record.segment("init-0.mp4"));
  // The samples leave the in-band parameter sets out (hvc1 has them in the init only).
  EXPECT_EQ(*without.segment("seg-0.m4s"), *with_record.segment("seg-0.m4s"));
  EXPECT_EQ(*without.segment("seg-1.m4s"), *with_record.segment("seg-1.m4s"));
}

TEST(HlsFmp4, NewSessionIsADiscontinuityWithANewMap) {
  const auto fixture = fixtures::load_hevc_fixture();
  HlsPackager hls({.target_duration_ms = 300, .window_segments = 10}, fixed_clock());
  hls.on_event(tracks_event(fixture.tracks, true));
  feed(hls, fixture.packets);
  hls.on_event(MediaEvent::publisher_left());
  hls.on_event(tracks_event(fixture.tracks, true));  // the anchor is back, same encoder
  feed(hls, shifted(fixture.packets, 1240));
  hls.on_event(MediaEvent::publisher_left());
  const auto playlist = hls.playlist();
  ASSERT_TRUE(playlist);
  EXPECT_EQ(maps(*playlist), (std::vector<std::string>{"init-0.mp4", "init-1.mp4"}));
  EXPECT_NE(playlist->find("seg-2.m4s\n#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI=\"init-1.mp4\"\n"
                           "#EXT-X-PROGRAM-DATE-TIME:"),
            std::string::npos)
      << *playlist;
  EXPECT_EQ(uris(*playlist).size(), 6u);
  ASSERT_TRUE(hls.segment("init-0.mp4"));
  ASSERT_TRUE(hls.segment("init-1.mp4"));
  EXPECT_EQ(*hls.segment("init-0.mp4"), *hls.segment("init-1.mp4"));
}

// New parameter sets in band mid-session (no tracks event): the segment ends at that
// keyframe, and the next starts with a new init after a discontinuity.
TEST(HlsFmp4, NewParameterSetsInBandStartANewInit) {
  const auto fixture = fixtures::with_parameter_sets_in_band(fixtures::load_hevc_fixture());
  auto packets = fixture.packets;
  int keyframes = 0;
  for (auto& p : packets) {
    if (p->kind != MediaKind::video || !p->keyframe || ++keyframes < 3) continue;
    // The third GOP's PPS gets a different (if meaningless) last byte.
    Packet copy = *p;
    size_t pps_end = 0;
    ASSERT_TRUE(h264::for_each_avcc_nal(copy.bytes(), 4, [&](std::span<const uint8_t> nal) {
                  if (((nal[0] >> 1) & 0x3F) == 34)
                    pps_end = static_cast<size_t>(nal.data() - copy.payload.data()) + nal.size();
                }).ok());
    ASSERT_GT(pps_end, 0u) << "the keyframe carries a PPS";
    copy.payload[pps_end - 1] ^= 0x01;
    p = std::make_shared<const Packet>(std::move(copy));
  }
  HlsPackager hls({.target_duration_ms = 100, .window_segments = 10}, fixed_clock());
  hls.on_event(tracks_event(fixture.tracks, true));
  feed(hls, packets);
  hls.on_event(MediaEvent::publisher_left());
  const auto playlist = hls.playlist();
  ASSERT_TRUE(playlist);
  EXPECT_EQ(maps(*playlist), (std::vector<std::string>{"init-0.mp4", "init-1.mp4"}));
  EXPECT_NE(playlist->find("seg-1.m4s\n#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI=\"init-1.mp4\"\n"), std::string::npos)
      << *playlist;
  EXPECT_NE(hvcc_of(hls.segment("init-0.mp4")), hvcc_of(hls.segment("init-1.mp4")));
}

// H.264 stays in TS exactly as before; an HEVC session switches the packager to fMP4,
// and a later H.264 session stays fMP4 (avc1) so no TS segment follows an EXT-X-MAP.
TEST(HlsFmp4, H264IsTsUntilAnHevcSessionAndFmp4After) {
  const auto flv = fixtures::load_small_flv();
  const auto hevc = fixtures::load_hevc_fixture();
  HlsPackager hls({.target_duration_ms = 300, .window_segments = 20}, fixed_clock());
  hls.on_event(tracks_event(flv.tracks, true));
  feed(hls, flv.packets);
  hls.on_event(MediaEvent::publisher_left());
  auto playlist = hls.playlist();
  ASSERT_TRUE(playlist);
  EXPECT_EQ(lines(*playlist)[1], "#EXT-X-VERSION:3");
  EXPECT_TRUE(maps(*playlist).empty());
  EXPECT_EQ(uris(*playlist), (std::vector<std::string>{"seg-0.ts", "seg-1.ts"}));

  hls.on_event(tracks_event(hevc.tracks, true));
  feed(hls, hevc.packets);
  hls.on_event(MediaEvent::publisher_left());
  hls.on_event(tracks_event(flv.tracks, true));
  feed(hls, shifted(flv.packets, 2500));
  hls.on_event(MediaEvent::publisher_left());
  playlist = hls.playlist();
  EXPECT_EQ(lines(*playlist)[1], "#EXT-X-VERSION:7");
  EXPECT_EQ(maps(*playlist), (std::vector<std::string>{"init-0.mp4", "init-1.mp4"}));
  EXPECT_EQ(uris(*playlist), (std::vector<std::string>{"seg-0.ts", "seg-1.ts", "seg-2.m4s", "seg-3.m4s", "seg-4.m4s",
                                                       "seg-5.m4s", "seg-6.m4s"}));
  EXPECT_EQ(sample_entry(hls.segment("init-0.mp4")), "hvc1");
  EXPECT_EQ(sample_entry(hls.segment("init-1.mp4")), "avc1");
  EXPECT_TRUE(hls.segment("seg-1.ts"));
  EXPECT_FALSE(hls.segment("seg-1.m4s"));
}

// Cues: the playlist's DATERANGEs as for TS, and in the segments an emsg with the ID3
// tag (AOM's ID3-in-CMAF scheme, read by hls.js) at the cue's pts, then again at the
// start of each later segment.
TEST(HlsFmp4, CuesBecomeEmsgBoxesAndDateRangesStay) {
  const auto fixture = fixtures::load_hevc_fixture();
  HlsPackager hls({.target_duration_ms = 300, .window_segments = 6}, fixed_clock());
  hls.on_event(tracks_event(fixture.tracks, true));
  const std::string json =
      R"({"type":"overlays","version":7,"pts_ms":1500,"overlays":[{"id":"c1","kind":"card","title":"Silk"}]})";
  for (size_t i = 0; i < fixture.packets.size(); ++i) {
    hls.on_event(MediaEvent::of_packet(fixture.packets[i]));
    if (i == 5) hls.on_event(MediaEvent::of_cue(std::make_shared<const Cue>(Cue{1500, 7, json})));
  }
  hls.on_event(MediaEvent::publisher_left());
  const auto playlist = hls.playlist();
  ASSERT_TRUE(playlist);
  EXPECT_NE(playlist->find("#EXT-X-DATERANGE:ID=\"c1-v7\""), std::string::npos) << *playlist;
  std::vector<uint64_t> times;
  for (const auto& name : uris(*playlist)) {
    const auto mp4 = fixtures::walk_mp4(bytes_of(hls.segment(name)));
    ASSERT_TRUE(mp4.errors.empty());
    const auto emsgs = fixtures::boxes_of(mp4.boxes, "emsg");
    ASSERT_EQ(emsgs.size(), 1u) << name;
    EXPECT_EQ(mp4.boxes[1].type, "emsg");
    const auto p = emsgs[0]->payload;
    EXPECT_EQ(fixtures::be32_at(p, 4), 1000u);  // ms
    EXPECT_EQ(fixtures::be32_at(p, 20), 7u);    // the cue's version
    times.push_back(fixtures::be64_at(p, 8));
    const std::string scheme(reinterpret_cast<const char*>(p.data() + 24));
    EXPECT_EQ(scheme, "https://aomedia.org/emsg/ID3");
    const size_t data_at = 24 + scheme.size() + 1 + 1;  // scheme, empty value
    auto tag = id3::parse_tag(p.subspan(data_at));
    ASSERT_TRUE(tag.ok()) << tag.error().message;
    auto text = id3::parse_txxx(tag->frames.at(0).body);
    ASSERT_TRUE(text.ok());
    EXPECT_EQ(text->value, json);
  }
  // At the cue's pts in the first segment; at each later segment's start (its first
  // keyframe's dts: 1.76 s, 2.16 s).
  EXPECT_EQ(times, (std::vector<uint64_t>{1500, 1760, 2160}));
}

// A burn-in stream's source playlist carries ?rendition=source on every URI it lists; the
// init section's URI sits in the EXT-X-MAP tag and needs it as much.
TEST(HlsFmp4, ASourceRenditionsMapCarriesTheRenditionToo) {
  Hub hub;
  std::vector<std::function<void()>> posted;
  HlsService service(HlsConfig{.target_duration_ms = 300, .window_segments = 6},
                     [&](std::function<void()> task) { posted.push_back(std::move(task)); });
  ASSERT_TRUE(hub.add("demo", "key", /*composited=*/true).ok());
  service.attach(hub, "demo");
  const auto fixture = fixtures::load_hevc_fixture();
  auto publisher = hub.find("demo")->begin_publish("srt");
  ASSERT_TRUE(publisher.ok());
  (*publisher)->set_tracks(fixture.tracks);
  for (const auto& p : fixture.packets) (*publisher)->push(Packet(*p));
  for (auto& task : posted) task();
  const auto playlist = std::get<std::string>(service.playlist("demo", Rendition::source, "c"));
  EXPECT_NE(playlist.find("#EXT-X-MAP:URI=\"init-0.mp4?rendition=source\"\n"), std::string::npos) << playlist;
  EXPECT_NE(playlist.find("\nseg-0.m4s?rendition=source\n"), std::string::npos) << playlist;
  const auto init = service.segment("demo", Rendition::source, "init-0.mp4");
  ASSERT_TRUE(std::holds_alternative<std::shared_ptr<const std::string>>(init));
  EXPECT_EQ(std::get<std::shared_ptr<const std::string>>(init)->substr(4, 4), "ftyp");
}

}  // namespace
}  // namespace anchorcast
