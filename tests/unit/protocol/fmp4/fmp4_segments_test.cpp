// The init and media segments read back with a box walker (tests/support/mp4_boxes.hpp)
// against what went in: the fixture's tracks and packets (tests/support/hevc_fixture.hpp).
#include <gtest/gtest.h>

#include <algorithm>

#include "gop_fragments.hpp"
#include "hevc_fixture.hpp"
#include "media_fixtures.hpp"
#include "mp4_boxes.hpp"
#include "relay/protocol/fmp4/init_segment.hpp"
#include "relay/protocol/fmp4/media_segment.hpp"
#include "relay/protocol/h264/nal_unit.hpp"
#include "relay/protocol/hevc/hevc_decoder_config.hpp"
#include "relay/protocol/hevc/nal_unit.hpp"

namespace anchorcast::fmp4 {
namespace {

using fixtures::be16_at;
using fixtures::be32_at;
using fixtures::be64_at;
using fixtures::find_box;

FixtureTracks fixture_tracks(const fixtures::HevcFixture& f) {
  auto video = make_video_track(*f.tracks.video);
  auto audio = make_audio_track(*f.tracks.audio);
  EXPECT_TRUE(video.ok()) << video.error().message;
  EXPECT_TRUE(audio.ok()) << audio.error().message;
  return {std::move(video).value(), std::move(audio).value()};
}

std::string fourccs(std::span<const uint8_t> p, size_t from) {
  std::string out;
  for (size_t at = from; at + 4 <= p.size(); at += 4)
    out += std::string(reinterpret_cast<const char*>(&p[at]), 4) + " ";
  return out;
}

TEST(Fmp4InitSegment, MoovDescribesTheHevcAndAacTracks) {
  const auto fixture = fixtures::load_hevc_fixture();
  const auto tracks = fixture_tracks(fixture);
  std::vector<uint8_t> init;
  const TrackConfig list[] = {tracks.video, tracks.audio};
  write_init_segment(list, init);
  const auto mp4 = fixtures::walk_mp4(init);
  ASSERT_TRUE(mp4.errors.empty()) << mp4.errors.front();
  ASSERT_EQ(mp4.boxes.size(), 2u);
  EXPECT_EQ(mp4.boxes[0].type, "ftyp");
  EXPECT_EQ(fourccs(mp4.boxes[0].payload, 0).substr(0, 5), "iso6 ");  // major brand
  EXPECT_EQ(be32_at(mp4.boxes[0].payload, 4), 0u);                     // minor version
  EXPECT_EQ(fourccs(mp4.boxes[0].payload, 8), "iso6 mp41 ");  // two tracks: no CMAF brand
  const auto* mvhd = find_box(mp4.boxes, "moov/mvhd");
  ASSERT_TRUE(mvhd);
  EXPECT_EQ(be32_at(mvhd->payload, 96), 3u);  // next_track_ID
  const auto traks = fixtures::boxes_of(find_box(mp4.boxes, "moov")->children, "trak");
  ASSERT_EQ(traks.size(), 2u);

  // Video: track 1, 320x240, 90 kHz, hvc1 with the record rewritten for the sample entry.
  const auto& v = traks[0]->children;
  EXPECT_EQ(be32_at(find_box(v, "tkhd")->payload, 12), 1u);
  EXPECT_EQ(be32_at(find_box(v, "tkhd")->payload, 76), 320u << 16);
  EXPECT_EQ(be32_at(find_box(v, "tkhd")->payload, 80), 240u << 16);
  EXPECT_EQ(be32_at(find_box(v, "mdia/mdhd")->payload, 12), 90000u);
  EXPECT_EQ(fourccs(find_box(v, "mdia/hdlr")->payload, 8).substr(0, 4), "vide");
  const auto* hvc1 = find_box(v, "mdia/minf/stbl/stsd/hvc1");
  ASSERT_TRUE(hvc1);
  EXPECT_EQ(be16_at(hvc1->payload, 24), 320);  // width
  EXPECT_EQ(be16_at(hvc1->payload, 26), 240);
  const auto* hvcc = find_box(hvc1->children, "hvcC");
  ASSERT_TRUE(hvcc);
  auto record = hevc::parse_hevc_decoder_config(hvcc->payload);
  ASSERT_TRUE(record.ok()) << record.error().message;
  EXPECT_EQ(record->length_size, 4);
  EXPECT_EQ(record->general.profile_idc, 1);
  ASSERT_EQ(record->arrays.size(), 3u);
  for (const auto& array : record->arrays) {
    EXPECT_TRUE(array.complete) << "hvc1: every parameter-set array is complete (14496-15 §8.4.1)";
    EXPECT_EQ(array.nal_units.size(), 1u);
  }
  auto source = hevc::parse_hevc_decoder_config(fixture.tracks.video->decoder_config);
  ASSERT_TRUE(source.ok());
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(record->arrays[i].nal_units, source->arrays[i].nal_units);
  for (auto table : {"stts", "stsc", "stco"})
    EXPECT_EQ(be32_at(find_box(v, std::string("mdia/minf/stbl/") + table)->payload, 4), 0u) << table;
  EXPECT_TRUE(find_box(v, "mdia/minf/vmhd"));
  EXPECT_TRUE(find_box(v, "mdia/minf/dinf/dref/url "));

  // Audio: track 2, 48 kHz, mono, mp4a whose esds carries the AudioSpecificConfig.
  const auto& a = traks[1]->children;
  EXPECT_EQ(be32_at(find_box(a, "tkhd")->payload, 12), 2u);
  EXPECT_EQ(be32_at(find_box(a, "mdia/mdhd")->payload, 12), 48000u);
  EXPECT_TRUE(find_box(a, "mdia/minf/smhd"));
  const auto* mp4a = find_box(a, "mdia/minf/stbl/stsd/mp4a");
  ASSERT_TRUE(mp4a);
  EXPECT_EQ(be16_at(mp4a->payload, 16), 1);               // channelcount
  EXPECT_EQ(be32_at(mp4a->payload, 24), 48000u << 16);    // samplerate
  const auto* esds = find_box(mp4a->children, "esds");
  ASSERT_TRUE(esds);
  const auto& asc = fixture.tracks.audio->decoder_config;
  // ES_Descriptor(3) > DecoderConfigDescriptor(4, object type 0x40) > DecSpecificInfo(5) = the ASC.
  const std::vector<uint8_t> es(esds->payload.begin() + 4, esds->payload.end());
  ASSERT_GE(es.size(), 20u);
  EXPECT_EQ(es[0], 0x03);
  EXPECT_EQ(es[1], es.size() - 2);
  EXPECT_EQ(es[5], 0x04);
  EXPECT_EQ(es[7], 0x40);
  EXPECT_EQ(es[20], 0x05);
  EXPECT_EQ(es[21], asc.size());
  EXPECT_TRUE(std::equal(asc.begin(), asc.end(), es.begin() + 22));
  EXPECT_EQ(std::vector<uint8_t>(es.end() - 3, es.end()), (std::vector<uint8_t>{0x06, 0x01, 0x02}));

  const auto trex = fixtures::boxes_of(find_box(mp4.boxes, "moov/mvex")->children, "trex");
  ASSERT_EQ(trex.size(), 2u);
  EXPECT_EQ(be32_at(trex[0]->payload, 4), 1u);
  EXPECT_EQ(be32_at(trex[1]->payload, 4), 2u);
  EXPECT_EQ(be32_at(trex[0]->payload, 8), 1u);  // default_sample_description_index
}

TEST(Fmp4InitSegment, OneTrackClaimsTheCmafBrand) {
  const auto fixture = fixtures::load_hevc_fixture();
  const auto tracks = fixture_tracks(fixture);
  std::vector<uint8_t> init;
  write_init_segment(std::span<const TrackConfig>(&tracks.video, 1), init);
  const auto mp4 = fixtures::walk_mp4(init);
  ASSERT_TRUE(mp4.errors.empty());
  EXPECT_EQ(fourccs(mp4.boxes[0].payload, 8), "iso6 mp41 cmfc ");
  EXPECT_EQ(fixtures::boxes_of(find_box(mp4.boxes, "moov")->children, "trak").size(), 1u);
}

// Every sample is where its trun says, holds the packet's NAL units minus the parameter
// sets (hvc1 keeps those in the sample entry), and times follow the packets.
TEST(Fmp4MediaSegment, TrunsDescribeTheSamplesInMdat) {
  const auto fixture = fixtures::load_hevc_fixture();
  const auto tracks = fixture_tracks(fixture);
  const auto gops = gop_fragments(fixture);
  ASSERT_EQ(gops.size(), 3u);
  for (size_t g = 0; g < gops.size(); ++g) {
    SCOPED_TRACE(g);
    const auto& gop = gops[g];
    const auto bytes = write_fragment(tracks, gop, static_cast<uint32_t>(g + 1));
    const auto mp4 = fixtures::walk_mp4(bytes);
    ASSERT_TRUE(mp4.errors.empty()) << mp4.errors.front();
    ASSERT_EQ(mp4.boxes.size(), 3u);
    EXPECT_EQ(mp4.boxes[0].type, "styp");
    EXPECT_EQ(mp4.boxes[1].type, "moof");
    EXPECT_EQ(mp4.boxes[2].type, "mdat");
    const auto& moof = mp4.boxes[1];
    EXPECT_EQ(be32_at(find_box(moof.children, "mfhd")->payload, 4), g + 1);
    const auto trafs = fixtures::boxes_of(moof.children, "traf");
    ASSERT_EQ(trafs.size(), 2u);
    const std::vector<PacketPtr>* packets[] = {&gop.video, &gop.audio};
    const uint32_t timescales[] = {90000, 48000};
    for (size_t t = 0; t < 2; ++t) {
      SCOPED_TRACE(t);
      const auto& traf = trafs[t]->children;
      const auto* tfhd = find_box(traf, "tfhd");
      EXPECT_EQ(be32_at(tfhd->payload, 0), 0x020000u);  // version 0, default-base-is-moof
      EXPECT_EQ(be32_at(tfhd->payload, 4), t + 1);
      const auto* tfdt = find_box(traf, "tfdt");
      EXPECT_EQ(tfdt->payload[0], 1);  // version 1: 64-bit
      const TimeBase ts{1, timescales[t]};
      EXPECT_EQ(be64_at(tfdt->payload, 4), static_cast<uint64_t>(packets[t]->front()->dts_in(ts)));
      const auto trun = fixtures::parse_trun(*find_box(traf, "trun"));
      ASSERT_EQ(trun.samples.size(), packets[t]->size());
      size_t at = moof.offset + static_cast<size_t>(trun.data_offset);
      uint64_t decode_time = be64_at(tfdt->payload, 4);
      for (size_t i = 0; i < trun.samples.size(); ++i) {
        SCOPED_TRACE(i);
        const Packet& p = *(*packets[t])[i];
        const auto& s = trun.samples[i];
        EXPECT_EQ(decode_time, static_cast<uint64_t>(p.dts_in(ts)));
        EXPECT_EQ(static_cast<int64_t>(decode_time) + s.composition_offset, p.pts_in(ts));
        decode_time += s.duration;
        EXPECT_EQ(s.flags, t == 1 || p.keyframe ? 0x02000000u : 0x01010000u);
        ASSERT_LE(at + s.size, bytes.size());
        const std::span<const uint8_t> sample(bytes.data() + at, s.size);
        at += s.size;
        if (t == 1) {
          EXPECT_TRUE(std::ranges::equal(sample, p.bytes()));
          continue;
        }
        std::vector<std::vector<uint8_t>> expected, got;
        ASSERT_TRUE(h264::for_each_avcc_nal(p.bytes(), 4, [&](std::span<const uint8_t> nal) {
                      const auto type = hevc::nal_type(nal[0]);
                      if (type != hevc::NalType::vps && type != hevc::NalType::sps && type != hevc::NalType::pps)
                        expected.emplace_back(nal.begin(), nal.end());
                    }).ok());
        ASSERT_TRUE(h264::for_each_avcc_nal(sample, 4, [&](std::span<const uint8_t> nal) {
                      got.emplace_back(nal.begin(), nal.end());
                    }).ok());
        EXPECT_EQ(got, expected);
        EXPECT_FALSE(got.empty());
      }
      // The video's last sample ends where the next GOP starts; audio's lasts one frame.
      if (t == 0) {
        if (gop.video_end_us) {
          EXPECT_EQ(decode_time, static_cast<uint64_t>(rescale(*gop.video_end_us, kMicros, k90kHz)));
        }
        EXPECT_EQ(trun.version, 1) << "B-frames: signed composition offsets";
      } else {
        EXPECT_EQ(trun.samples.back().duration, 1024u);
        EXPECT_EQ(trun.flags & 0x800, 0u) << "audio has no composition offsets";
      }
    }
    // The two runs fill the mdat exactly.
    const auto& mdat = mp4.boxes[2];
    const auto video_trun = fixtures::parse_trun(*find_box(trafs[0]->children, "trun"));
    const auto audio_trun = fixtures::parse_trun(*find_box(trafs[1]->children, "trun"));
    EXPECT_EQ(moof.offset + static_cast<size_t>(video_trun.data_offset), mdat.offset + 8);
    size_t total = 0;
    for (const auto& s : video_trun.samples) total += s.size;
    EXPECT_EQ(static_cast<size_t>(audio_trun.data_offset), video_trun.data_offset + total);
    for (const auto& s : audio_trun.samples) total += s.size;
    EXPECT_EQ(total, mdat.payload.size());
  }
}

TEST(Fmp4MediaSegment, EventMessagesComeBeforeTheMoof) {
  const auto fixture = fixtures::load_hevc_fixture();
  const auto tracks = fixture_tracks(fixture);
  const std::vector<uint8_t> id3 = {'I', 'D', '3', 4, 0, 0, 0, 0, 0, 0};
  const EventMessage events[] = {{.scheme_id_uri = kId3EventScheme,
                                  .value = "",
                                  .timescale = 1000,
                                  .presentation_time = 1450,
                                  .id = 17,
                                  .message_data = id3}};
  const auto bytes = write_fragment(tracks, gop_fragments(fixture)[0], 1, events);
  const auto mp4 = fixtures::walk_mp4(bytes);
  ASSERT_TRUE(mp4.errors.empty());
  ASSERT_EQ(mp4.boxes.size(), 4u);
  EXPECT_EQ(mp4.boxes[1].type, "emsg");
  EXPECT_EQ(mp4.boxes[2].type, "moof");
  const auto p = mp4.boxes[1].payload;
  EXPECT_EQ(be32_at(p, 0), 0x01000000u);  // version 1
  EXPECT_EQ(be32_at(p, 4), 1000u);
  EXPECT_EQ(be64_at(p, 8), 1450u);
  EXPECT_EQ(be32_at(p, 16), 0xFFFFFFFFu);
  EXPECT_EQ(be32_at(p, 20), 17u);
  const std::string rest(p.begin() + 24, p.end());
  EXPECT_EQ(rest, std::string(kId3EventScheme) + '\0' + '\0' + std::string(id3.begin(), id3.end()));
}

TEST(Fmp4MediaSegment, BadSamplesFailNamingTheSampleAndWriteNothing) {
  const auto fixture = fixtures::load_hevc_fixture();
  const auto tracks = fixture_tracks(fixture);
  auto gop = gop_fragments(fixture)[0];
  std::vector<uint8_t> out = {1, 2, 3};
  auto write = [&] {
    const TrackFragment fragments[] = {{&tracks.video, gop.video, gop.video_end_us}, {&tracks.audio, gop.audio, {}}};
    return write_media_segment(1, fragments, {}, out);
  };

  Packet cut = *gop.video[3];
  cut.payload.resize(cut.payload.size() - 1);  // the last NAL length now runs past the end
  gop.video[3] = std::make_shared<const Packet>(cut);
  auto s = write();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("video sample #3"), std::string::npos) << s.error().message;
  EXPECT_EQ(out, (std::vector<uint8_t>{1, 2, 3}));

  gop = gop_fragments(fixture)[0];
  std::swap(gop.audio[2], gop.audio[4]);
  s = write();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("audio sample #2 decodes after the next sample"), std::string::npos)
      << s.error().message;

  gop = gop_fragments(fixture)[0];
  Packet early = *gop.video[0];
  early.dts = -1;
  EXPECT_FALSE(check_sample(tracks.video, early).ok());
  EXPECT_FALSE(check_sample(tracks.audio, *gop.video[0]).ok());
  EXPECT_TRUE(check_sample(tracks.video, *gop.video[0]).ok());
  EXPECT_EQ(out, (std::vector<uint8_t>{1, 2, 3}));
}

TEST(Fmp4TrackConfig, RefusesRecordsAnHvc1EntryCannotCarry) {
  const auto fixture = fixtures::load_hevc_fixture();
  auto record = hevc::parse_hevc_decoder_config(fixture.tracks.video->decoder_config);
  ASSERT_TRUE(record.ok());
  record->arrays.erase(record->arrays.begin() + 2);  // no PPS
  VideoTrack track = *fixture.tracks.video;
  track.decoder_config = hevc::serialize_hevc_decoder_config(*record).value();
  auto config = make_video_track(track);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().message,
            "HEVC track: the decoder configuration has no PPS; an hvc1 sample entry must carry every parameter set");
  track.decoder_config.clear();
  EXPECT_FALSE(make_video_track(track).ok());
  AudioTrack opus;
  opus.codec = Codec::opus;
  EXPECT_FALSE(make_audio_track(opus).ok());
}

}  // namespace
}  // namespace anchorcast::fmp4
