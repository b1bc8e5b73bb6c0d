// The fMP4 muxer against bytes fixed in tests/golden/fmp4/ and against FFmpeg's reader.
//
// The goldens (init section + the first GOP's fragment of tests/data/hevc_aac_320x240.ts)
// were written by this muxer (ANCHORCAST_UPDATE_GOLDEN=1 rewrites them) and are checked
// independently of it here: FFmpeg 5.1's mov demuxer and HEVC/AAC decoders read the golden
// files themselves (codecs, hvc1 tag, size, every packet's pts/dts, every frame decoded,
// no warning). A golden mismatch therefore means the bytes changed; whether the new bytes
// are right is what the other tests say. The fragment is made of the TsDemuxer's packets:
// a demuxer change in which NAL units it keeps changes that golden too.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "gop_fragments.hpp"
#include "hevc_fixture.hpp"
#include "media_fixtures.hpp"
#include "relay/protocol/fmp4/init_segment.hpp"

namespace anchorcast::fmp4 {
namespace {

const std::string kGoldenInit = std::string(ANCHORCAST_TEST_GOLDEN) + "/fmp4/hevc_aac_init.mp4";
const std::string kGoldenFragment = std::string(ANCHORCAST_TEST_GOLDEN) + "/fmp4/hevc_aac_gop1.m4s";

FixtureTracks fixture_tracks(const fixtures::HevcFixture& f) {
  return {make_video_track(*f.tracks.video).value(), make_audio_track(*f.tracks.audio).value()};
}

std::vector<uint8_t> init_segment(const FixtureTracks& tracks) {
  std::vector<uint8_t> out;
  const TrackConfig list[] = {tracks.video, tracks.audio};
  write_init_segment(list, out);
  return out;
}

void write_file(const std::string& path, std::span<const uint8_t> bytes) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

::testing::AssertionResult matches_golden(const std::vector<uint8_t>& actual, const std::string& path) {
  const char* update = std::getenv("ANCHORCAST_UPDATE_GOLDEN");
  if (update && std::string(update) == "1") {
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    write_file(path, actual);
    return ::testing::AssertionSuccess();
  }
  const auto golden = fixtures::read_file(path);
  if (golden.empty())
    return ::testing::AssertionFailure() << path << " is missing (ANCHORCAST_UPDATE_GOLDEN=1 writes it)";
  const auto [a, g] = std::mismatch(actual.begin(), actual.end(), golden.begin(), golden.end());
  if (a == actual.end() && g == golden.end()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << path << ": " << actual.size() << " bytes written, " << golden.size()
                                       << " in the golden, first difference at byte " << (a - actual.begin());
}

// "pts,dts" per stream type, as ffprobe lists a file's packets.
std::map<std::string, std::vector<std::string>> ffprobe_packets(const std::string& path) {
  int status = -1;
  const auto listing =
      fixtures::run_command("ffprobe -v error -show_entries packet=codec_type,pts,dts -of csv=p=0 " + path, &status);
  EXPECT_EQ(status, 0);
  std::map<std::string, std::vector<std::string>> got;
  std::istringstream lines(listing);
  for (std::string line; std::getline(lines, line);) {
    while (!line.empty() && line.back() == ',') line.pop_back();
    const auto comma = line.find(',');
    if (comma != std::string::npos) got[line.substr(0, comma)].push_back(line.substr(comma + 1));
  }
  return got;
}

std::map<std::string, std::vector<std::string>> expected_packets(const std::vector<PacketPtr>& video,
                                                                 const std::vector<PacketPtr>& audio) {
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& p : video)
    out["video"].push_back(std::to_string(p->pts_in(k90kHz)) + "," + std::to_string(p->dts_in(k90kHz)));
  const TimeBase audio_tb{1, 48000};
  for (const auto& p : audio)
    out["audio"].push_back(std::to_string(p->pts_in(audio_tb)) + "," + std::to_string(p->dts_in(audio_tb)));
  return out;
}

std::string ffprobe_streams(const std::string& path) {
  int status = -1;
  const auto out = fixtures::run_command(
      "ffprobe -v error -count_frames -show_entries "
      "stream=codec_name,codec_tag_string,profile,width,height,sample_rate,channels,nb_read_frames -of compact " + path,
      &status);
  EXPECT_EQ(status, 0);
  return out;
}

std::string decode_warnings(const std::string& path) {
  int status = -1;
  const auto out = fixtures::run_command("ffmpeg -nostdin -v warning -i " + path + " -f null - 2>&1", &status);
  EXPECT_EQ(status, 0);
  return out;
}

TEST(Fmp4Golden, InitAndFirstFragmentAreByteForByteTheGoldens) {
  const auto fixture = fixtures::load_hevc_fixture();
  const auto tracks = fixture_tracks(fixture);
  EXPECT_TRUE(matches_golden(init_segment(tracks), kGoldenInit));
  EXPECT_TRUE(matches_golden(write_fragment(tracks, gop_fragments(fixture)[0], 1), kGoldenFragment));
}

// The independent check of the goldens: FFmpeg reads the files on disk, not our output.
TEST(Fmp4Golden, FfmpegReadsTheGoldensAsTheFixturesFirstGop) {
  const auto init = fixtures::read_file(kGoldenInit);
  const auto fragment = fixtures::read_file(kGoldenFragment);
  ASSERT_FALSE(init.empty());
  ASSERT_FALSE(fragment.empty());
  const auto path = fixtures::temp_path(".mp4");
  {
    std::ofstream f(path, std::ios::binary);
    f.write(reinterpret_cast<const char*>(init.data()), static_cast<std::streamsize>(init.size()));
    f.write(reinterpret_cast<const char*>(fragment.data()), static_cast<std::streamsize>(fragment.size()));
  }
  const auto gop = gop_fragments(fixtures::load_hevc_fixture())[0];
  const auto streams = ffprobe_streams(path);
  // 9 frames: the second GOP's keyframe (a CRA) is the 10th in output order, not in
  // decode order.
  ASSERT_EQ(gop.video.size(), 9u);
  EXPECT_NE(streams.find("codec_name=hevc|profile=Main|codec_tag_string=hvc1|width=320|height=240|"
                         "nb_read_frames=9"),
            std::string::npos)
      << streams;
  EXPECT_NE(streams.find("codec_name=aac|profile=LC|codec_tag_string=mp4a|sample_rate=48000|channels=1|"
                         "nb_read_frames=" + std::to_string(gop.audio.size())),
            std::string::npos)
      << streams;
  EXPECT_EQ(ffprobe_packets(path), expected_packets(gop.video, gop.audio));
  EXPECT_EQ(decode_warnings(path), "");
  std::remove(path.c_str());
}

// The whole fixture, one fragment per GOP after the init, as a player concatenates them:
// every frame of both tracks decodes, at the packets' own times.
TEST(Fmp4Muxer, FfprobeCountsEveryFrameOfTheConcatenatedFragments) {
  const auto fixture = fixtures::load_hevc_fixture();
  const auto tracks = fixture_tracks(fixture);
  const auto gops = gop_fragments(fixture);
  std::vector<PacketPtr> video, audio;
  std::vector<uint8_t> file = init_segment(tracks);
  for (size_t i = 0; i < gops.size(); ++i) {
    const auto fragment = write_fragment(tracks, gops[i], static_cast<uint32_t>(i + 1));
    file.insert(file.end(), fragment.begin(), fragment.end());
    video.insert(video.end(), gops[i].video.begin(), gops[i].video.end());
    audio.insert(audio.end(), gops[i].audio.begin(), gops[i].audio.end());
  }
  // What `ffprobe -count_frames` reads from the source TS itself.
  ASSERT_EQ(video.size(), 30u);
  ASSERT_EQ(audio.size(), 58u);
  const auto path = fixtures::temp_path(".mp4");
  write_file(path, file);
  const auto streams = ffprobe_streams(path);
  EXPECT_NE(streams.find("codec_name=hevc|profile=Main|codec_tag_string=hvc1|width=320|height=240|nb_read_frames=30"),
            std::string::npos)
      << streams;
  EXPECT_NE(streams.find("codec_name=aac|profile=LC|codec_tag_string=mp4a|sample_rate=48000|channels=1|"
                         "nb_read_frames=58"),
            std::string::npos)
      << streams;
  EXPECT_EQ(ffprobe_packets(path), expected_packets(video, audio));
  EXPECT_EQ(decode_warnings(path), "");
  std::remove(path.c_str());
}

}  // namespace
}  // namespace anchorcast::fmp4
