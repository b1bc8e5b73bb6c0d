#include "relay/egress/flv/flv_muxer.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "media_fixtures.hpp"
#include "relay/protocol/flv/audio_tag.hpp"
#include "relay/protocol/flv/flv_header.hpp"
#include "relay/protocol/flv/flv_tag.hpp"
#include "relay/protocol/flv/video_tag.hpp"
#include "relay/protocol/rtmp/amf0.hpp"

namespace anchorcast {
namespace {

MediaEvent tracks_event(const TrackSet& tracks, bool new_session) {
  return MediaEvent::of_tracks(std::make_shared<const TrackSet>(tracks), new_session);
}

std::vector<uint8_t> flatten(const FlvBatch& batch) {
  std::vector<uint8_t> out;
  for (auto span : batch.spans()) out.insert(out.end(), span.begin(), span.end());
  EXPECT_EQ(out.size(), batch.size_bytes());
  return out;
}

struct ParsedTag {
  flv::TagHeader header;
  std::vector<uint8_t> body;
};

// Our own parsers read back what the muxer wrote, every length checked.
std::vector<ParsedTag> parse_flv(std::span<const uint8_t> bytes, flv::FileHeader* file_header = nullptr) {
  std::vector<ParsedTag> tags;
  auto header = flv::parse_file_header(bytes);
  EXPECT_TRUE(header.ok());
  if (!header) return tags;
  if (file_header) *file_header = *header;
  auto rest = bytes.subspan(flv::kFileHeaderWithTagSize0);
  while (!rest.empty()) {
    auto tag = flv::parse_tag(rest);
    EXPECT_TRUE(tag.ok()) << tag.error().message;
    if (!tag) break;
    tags.push_back({tag->header, std::vector<uint8_t>(tag->body.begin(), tag->body.end())});
    rest = rest.subspan(tag->size());
  }
  return tags;
}

TEST(FlvMuxer, WritesHeaderMetadataSequenceHeadersAndOneTagPerPacket) {
  const auto flv = fixtures::load_small_flv();
  FlvMuxer muxer;
  FlvBatch batch;
  EXPECT_TRUE(muxer.on_event(tracks_event(flv.tracks, true), batch));
  for (const auto& p : flv.packets) EXPECT_TRUE(muxer.on_event(MediaEvent::of_packet(p), batch));
  const auto bytes = flatten(batch);
  flv::FileHeader file_header;
  const auto tags = parse_flv(bytes, &file_header);
  EXPECT_TRUE(file_header.has_audio);
  EXPECT_TRUE(file_header.has_video);
  ASSERT_EQ(tags.size(), 3 + flv.packets.size());

  ASSERT_EQ(tags[0].header.type, flv::TagType::script);
  EXPECT_EQ(tags[0].header.timestamp_ms, 0);
  auto amf = rtmp::decode_amf0(tags[0].body);
  ASSERT_TRUE(amf.ok());
  ASSERT_EQ(amf->size(), 2u);
  EXPECT_EQ((*amf)[0].string, "onMetaData");
  EXPECT_EQ((*amf)[1].get_number("width"), 320);
  EXPECT_EQ((*amf)[1].get_number("height"), 180);
  EXPECT_EQ((*amf)[1].get_number("audiosamplerate"), 48000);

  auto avc = flv::parse_video_tag_body(tags[1].body);
  ASSERT_TRUE(avc.ok());
  EXPECT_EQ(avc->avc_packet_type, flv::AvcPacketType::sequence_header);
  EXPECT_TRUE(std::equal(avc->data.begin(), avc->data.end(), flv.tracks.video->decoder_config.begin(),
                         flv.tracks.video->decoder_config.end()));
  auto aac = flv::parse_audio_tag_body(tags[2].body);
  ASSERT_TRUE(aac.ok());
  EXPECT_EQ(aac->aac_packet_type, flv::AacPacketType::sequence_header);
  EXPECT_TRUE(std::equal(aac->data.begin(), aac->data.end(), flv.tracks.audio->decoder_config.begin(),
                         flv.tracks.audio->decoder_config.end()));

  for (size_t i = 0; i < flv.packets.size(); ++i) {
    const Packet& p = *flv.packets[i];
    const auto& tag = tags[3 + i];
    SCOPED_TRACE(i);
    EXPECT_EQ(tag.header.timestamp_ms, p.dts);
    if (p.kind == MediaKind::video) {
      auto body = flv::parse_video_tag_body(tag.body);
      ASSERT_TRUE(body.ok());
      EXPECT_EQ(body->is_keyframe(), p.keyframe);
      EXPECT_EQ(body->composition_time_ms, p.pts - p.dts);
      EXPECT_TRUE(std::equal(body->data.begin(), body->data.end(), p.payload.begin(), p.payload.end()));
    } else {
      auto body = flv::parse_audio_tag_body(tag.body);
      ASSERT_TRUE(body.ok());
      EXPECT_EQ(body->aac_packet_type, flv::AacPacketType::raw);
      EXPECT_TRUE(std::equal(body->data.begin(), body->data.end(), p.payload.begin(), p.payload.end()));
    }
  }
}

TEST(FlvMuxer, PayloadsAreReferencedNotCopied) {
  const auto flv = fixtures::load_small_flv();
  FlvMuxer muxer;
  FlvBatch batch;
  muxer.on_event(tracks_event(flv.tracks, true), batch);
  muxer.on_event(MediaEvent::of_packet(flv.packets.front()), batch);
  batch.clear();  // the header and sequence headers went out with the first frame
  const PacketPtr& frame = flv.packets[1];
  ASSERT_EQ(frame->kind, MediaKind::video);
  const long before = frame.use_count();
  muxer.on_event(MediaEvent::of_packet(frame), batch);
  EXPECT_EQ(frame.use_count(), before + 1);  // the batch keeps the payload alive
  const auto& spans = batch.spans();
  // tag header + prefix | payload | PreviousTagSize + (nothing else)
  ASSERT_EQ(spans.size(), 3u);
  EXPECT_EQ(spans[0].size(), 11u + 5u);
  EXPECT_EQ(spans[1].data(), frame->payload.data());
  EXPECT_EQ(spans[1].size(), frame->payload.size());
  EXPECT_EQ(spans[2].size(), 4u);
  batch.clear();
  EXPECT_EQ(frame.use_count(), before);
  EXPECT_TRUE(batch.empty());
}

// Point 1 of issue 13: a media tag is framed once per loop. Two viewers sharing the
// loop's cache write the very same bytes (the same memory, even) as a viewer that frames
// its own, and the second viewer frames nothing.
TEST(FlvMuxer, ViewersOfALoopShareEachFramedTagByteForByte) {
  const auto flv = fixtures::load_small_flv();
  FramedTagCache cache;
  FlvMuxer first(&cache), second(&cache), alone;
  FlvBatch a, b, c;
  for (auto* m : {&first, &second, &alone}) {
    FlvBatch& out = m == &first ? a : m == &second ? b : c;
    EXPECT_TRUE(m->on_event(tracks_event(flv.tracks, true), out));
  }
  for (const auto& p : flv.packets) {
    first.on_event(MediaEvent::of_packet(p), a);
    second.on_event(MediaEvent::of_packet(p), b);
    alone.on_event(MediaEvent::of_packet(p), c);
  }
  EXPECT_EQ(flatten(a), flatten(c));
  EXPECT_EQ(flatten(b), flatten(c));
  EXPECT_EQ(cache.misses(), flv.packets.size());
  EXPECT_EQ(cache.hits(), flv.packets.size());
  const auto spans_a = a.spans(), spans_b = b.spans();
  ASSERT_EQ(spans_a.size(), spans_b.size());
  EXPECT_EQ(spans_a.back().data(), spans_b.back().data());  // the last PreviousTagSize, shared
}

TEST(FlvMuxer, StartsVideoOnAKeyframeAndKeepsAbsoluteTimestamps) {
  const auto flv = fixtures::load_small_flv();
  FlvMuxer muxer;
  FlvBatch batch;
  muxer.on_event(tracks_event(flv.tracks, true), batch);
  // A viewer joining one hour into the stream, first given a frame it cannot decode.
  auto shifted = [](const PacketPtr& p, int64_t by_ms) {
    Packet copy = *p;
    copy.dts += by_ms;
    copy.pts += by_ms;
    return std::make_shared<const Packet>(std::move(copy));
  };
  const int64_t hour = 3'600'000;
  PacketPtr inter;
  for (const auto& p : flv.packets)
    if (p->kind == MediaKind::video && !p->keyframe) inter = p;
  muxer.on_event(MediaEvent::of_packet(shifted(inter, hour - 1000)), batch);
  for (const auto& p : flv.packets)
    if (p->kind == MediaKind::video) muxer.on_event(MediaEvent::of_packet(shifted(p, hour)), batch);
  const auto tags = parse_flv(flatten(batch));
  // Metadata, AVC + AAC sequence headers, 20 frames; the early inter frame dropped.
  ASSERT_EQ(tags.size(), 3u + 20u);
  EXPECT_EQ(tags[1].header.timestamp_ms, hour);  // sequence headers at the first frame's time
  EXPECT_EQ(tags[3].header.timestamp_ms, hour);
  auto first = flv::parse_video_tag_body(tags[3].body);
  EXPECT_TRUE(first->is_keyframe());
}

TEST(FlvMuxer, NewSessionRewritesSequenceHeadersOnTheSameTimeline) {
  const auto flv = fixtures::load_small_flv();
  FlvMuxer muxer;
  FlvBatch batch;
  muxer.on_event(tracks_event(flv.tracks, true), batch);
  for (const auto& p : flv.packets) muxer.on_event(MediaEvent::of_packet(p), batch);
  EXPECT_TRUE(muxer.on_event(MediaEvent::publisher_left(), batch));
  muxer.on_event(tracks_event(flv.tracks, false), batch);  // a repeat: nothing
  const size_t before = parse_flv(flatten(batch)).size();
  muxer.on_event(tracks_event(flv.tracks, true), batch);
  for (const auto& p : fixtures::repeat_packets(flv.packets, 2, 800)) {
    if (p->dts < 800) continue;
    muxer.on_event(MediaEvent::of_packet(p), batch);
  }
  const auto tags = parse_flv(flatten(batch));
  ASSERT_GT(tags.size(), before + 3);
  EXPECT_EQ(tags[before].header.type, flv::TagType::script);
  EXPECT_EQ(tags[before + 1].header.timestamp_ms, 800);
  EXPECT_EQ(flv::parse_video_tag_body(tags[before + 1].body)->avc_packet_type, flv::AvcPacketType::sequence_header);
  EXPECT_EQ(flv::parse_audio_tag_body(tags[before + 2].body)->aac_packet_type, flv::AacPacketType::sequence_header);
  EXPECT_FALSE(muxer.on_event(MediaEvent::closed(), batch));
}

// The real consumer: FFmpeg reads our bytes as an FLV file with both streams and
// decodes every frame without a complaint.
TEST(FlvMuxer, FfprobeAcceptsTheStream) {
  const auto flv = fixtures::load_small_flv();
  FlvMuxer muxer;
  FlvBatch batch;
  const auto path = fixtures::temp_path(".flv");
  std::ofstream f(path, std::ios::binary);
  auto drain = [&] {
    for (auto span : batch.spans()) f.write(reinterpret_cast<const char*>(span.data()), static_cast<std::streamsize>(span.size()));
    batch.clear();
  };
  muxer.on_event(tracks_event(flv.tracks, true), batch);
  drain();
  for (const auto& p : fixtures::repeat_packets(flv.packets, 3, 800)) {
    muxer.on_event(MediaEvent::of_packet(p), batch);
    drain();  // one write per event, as the HTTP session does
  }
  f.close();
  int status = -1;
  const auto streams = fixtures::run_command(
      "ffprobe -v error -count_frames -show_entries stream=codec_type,codec_name,width,height,sample_rate,nb_read_frames "
      "-of compact " + path, &status);
  EXPECT_EQ(status, 0);
  EXPECT_NE(streams.find("codec_name=h264|codec_type=video|width=320|height=180|nb_read_frames=60"), std::string::npos)
      << streams;
  EXPECT_NE(streams.find("codec_name=aac|codec_type=audio|sample_rate=48000"), std::string::npos) << streams;
  EXPECT_EQ(std::count(streams.begin(), streams.end(), '\n'), 2) << streams;  // no extra data stream
  const auto warnings = fixtures::run_command("ffmpeg -nostdin -v warning -i " + path + " -f null - 2>&1", &status);
  EXPECT_EQ(status, 0);
  EXPECT_EQ(warnings, "");
  std::remove(path.c_str());
}

}  // namespace
}  // namespace anchorcast
