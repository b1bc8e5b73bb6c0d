// RtmpPublish: FLV tag bodies in, hub TrackSets and Packets out (no socket).
#include "relay/ingest/rtmp/rtmp_publish.hpp"

#include <gtest/gtest.h>

#include "anchorcast/hub/hub.hpp"
#include "relay/protocol/h264/avc_decoder_config.hpp"

namespace anchorcast {
namespace {

using rtmp::Amf0Value;

const std::vector<uint8_t> kSps = {0x67, 0x42, 0xc0, 0x0d, 0xdc, 0x14, 0x1f, 0xb0, 0x11, 0x00, 0x00, 0x03,
                                   0x00, 0x01, 0x00, 0x00, 0x03, 0x00, 0x32, 0x0f, 0x14, 0x2b, 0x80};
const std::vector<uint8_t> kPps = {0x68, 0xce, 0x0f, 0xc8};

std::vector<uint8_t> avc_seq() {
  std::vector<uint8_t> p = {0x17, 0x00, 0, 0, 0};
  auto record = h264::build_avc_decoder_config(kSps, kPps);
  p.insert(p.end(), record->begin(), record->end());
  return p;
}

class RtmpPublishTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(hub.add("demo", "k").ok());
    stream = hub.find("demo");
    sub = stream->subscribe({ViewerProtocol::internal, 64, nullptr});
    auto publisher = stream->begin_publish("rtmp");
    ASSERT_TRUE(publisher.ok());
    publish = std::make_unique<RtmpPublish>(std::move(*publisher), "test");
  }
  std::vector<MediaEvent> events() {
    std::vector<MediaEvent> out;
    sub->pop_all(out);
    return out;
  }
  Hub hub;
  std::shared_ptr<Stream> stream;
  std::unique_ptr<Subscription> sub;
  std::unique_ptr<RtmpPublish> publish;
};

TEST_F(RtmpPublishTest, AnnouncesOneTrackSetAtTheFirstMediaPacket) {
  ASSERT_TRUE(publish->on_video(0, avc_seq()).ok());
  ASSERT_TRUE(publish->on_audio(0, std::vector<uint8_t>{0xAF, 0x00, 0x12, 0x10}).ok());
  EXPECT_TRUE(events().empty());  // nothing before media

  std::vector<uint8_t> key = {0x17, 0x01, 0x00, 0x00, 0x28, 0, 0, 0, 2, 0x65, 0x88};  // cts 40
  ASSERT_TRUE(publish->on_video(1000, key).ok());
  ASSERT_TRUE(publish->on_audio(1010, std::vector<uint8_t>{0xAF, 0x01, 0x21, 0x10}).ok());
  auto ev = events();
  ASSERT_EQ(ev.size(), 3u);
  ASSERT_EQ(ev[0].type, MediaEvent::Type::tracks);
  const TrackSet& t = *ev[0].tracks;
  ASSERT_TRUE(t.video && t.audio);
  EXPECT_EQ(t.video->width, 320);
  EXPECT_EQ(t.video->height, 240);
  EXPECT_EQ(t.video->fps, 25);
  auto seq = avc_seq();
  EXPECT_EQ(t.video->decoder_config, std::vector<uint8_t>(seq.begin() + 5, seq.end()));
  EXPECT_EQ(t.audio->sample_rate, 44100);
  EXPECT_EQ(t.audio->channels, 2);
  EXPECT_EQ(t.audio->decoder_config, (std::vector<uint8_t>{0x12, 0x10}));

  const Packet& v = *ev[1].packet;
  EXPECT_EQ(v.kind, MediaKind::video);
  EXPECT_TRUE(v.keyframe);
  EXPECT_EQ(v.time_base, kMillis);
  EXPECT_EQ(v.dts, 1000);
  EXPECT_EQ(v.pts, 1040);
  auto bytes = [](const Packet& p) { return std::vector<uint8_t>(p.bytes().begin(), p.bytes().end()); };
  EXPECT_EQ(bytes(v), (std::vector<uint8_t>{0, 0, 0, 2, 0x65, 0x88}));  // AVCC, no FLV prefix
  // The message is the packet's storage: the access unit was not copied out of it.
  EXPECT_EQ(v.payload_offset, 5u);
  EXPECT_EQ(v.payload.size(), 5u + 6u);
  const Packet& a = *ev[2].packet;
  EXPECT_EQ(a.kind, MediaKind::audio);
  EXPECT_EQ(a.dts, 1010);
  EXPECT_EQ(bytes(a), (std::vector<uint8_t>{0x21, 0x10}));  // raw AAC, no FLV prefix
  EXPECT_EQ(a.payload_offset, 2u);
}

TEST_F(RtmpPublishTest, ReannouncesWhenASequenceHeaderChanges) {
  ASSERT_TRUE(publish->on_video(0, avc_seq()).ok());
  ASSERT_TRUE(publish->on_audio(0, std::vector<uint8_t>{0xAF, 0x00, 0x12, 0x10}).ok());
  ASSERT_TRUE(publish->on_audio(10, std::vector<uint8_t>{0xAF, 0x01, 0x01}).ok());
  ASSERT_TRUE(publish->on_audio(0, std::vector<uint8_t>{0xAF, 0x00, 0x12, 0x10}).ok());  // same: no change
  ASSERT_TRUE(publish->on_audio(20, std::vector<uint8_t>{0xAF, 0x01, 0x01}).ok());
  ASSERT_TRUE(publish->on_audio(0, std::vector<uint8_t>{0xAF, 0x00, 0x11, 0x88}).ok());  // 48 kHz mono
  ASSERT_TRUE(publish->on_audio(30, std::vector<uint8_t>{0xAF, 0x01, 0x01}).ok());
  auto ev = events();
  int tracks = 0;
  for (const auto& e : ev) tracks += e.type == MediaEvent::Type::tracks;
  EXPECT_EQ(tracks, 2);
  EXPECT_EQ(publish->announced().audio->sample_rate, 48000);
  EXPECT_EQ(publish->announced().audio->channels, 1);
}

TEST_F(RtmpPublishTest, UsesMetadataWhenTheSequenceHeadersSayNothing) {
  publish->on_metadata(Amf0Value::make_ecma_array({{"audiosamplerate", Amf0Value::make_number(44100)},
                                                   {"stereo", Amf0Value::make_boolean(true)}}));
  // An AudioSpecificConfig with channel configuration 0 (channels in a PCE): the
  // channel count comes from the metadata.
  ASSERT_TRUE(publish->on_audio(0, std::vector<uint8_t>{0xAF, 0x00, 0x12, 0x00}).ok());  // channel config 0
  ASSERT_TRUE(publish->on_audio(10, std::vector<uint8_t>{0xAF, 0x01, 0x01}).ok());
  EXPECT_EQ(publish->announced().audio->channels, 2);
}

TEST_F(RtmpPublishTest, TakesTheFrameRateFromMetadataWhenTheSpsHasNoTiming) {
  // Baseline 320x240 SPS without VUI, bits written by hand: sps_id 0, log2_max_frame_num
  // 4, poc type 2, 1 ref frame, 20x15 macroblocks, frame_mbs_only, no cropping, no VUI.
  const std::vector<uint8_t> sps = {0x67, 0x42, 0xc0, 0x0d, 0xda, 0x05, 0x07, 0xe4};
  auto record = h264::build_avc_decoder_config(sps, kPps);
  ASSERT_TRUE(record.ok()) << record.error().message;
  std::vector<uint8_t> seq = {0x17, 0x00, 0, 0, 0};
  seq.insert(seq.end(), record->begin(), record->end());
  publish->on_metadata(Amf0Value::make_ecma_array({{"framerate", Amf0Value::make_number(29.97)},
                                                   {"width", Amf0Value::make_number(999)}}));
  ASSERT_TRUE(publish->on_video(0, seq).ok());
  ASSERT_TRUE(publish->on_video(0, std::vector<uint8_t>{0x17, 0x01, 0, 0, 0, 0, 0, 0, 1, 0x65}).ok());
  ASSERT_TRUE(publish->announced().video);
  EXPECT_EQ(publish->announced().video->width, 320);  // the SPS wins over metadata
  EXPECT_EQ(publish->announced().video->height, 240);
  EXPECT_DOUBLE_EQ(publish->announced().video->fps, 29.97);
}

TEST_F(RtmpPublishTest, DropsMediaBeforeItsSequenceHeaderAndIgnoresEmptyBodies) {
  ASSERT_TRUE(publish->on_video(0, std::vector<uint8_t>{0x17, 0x01, 0, 0, 0, 0, 0, 0, 1, 0x65}).ok());
  ASSERT_TRUE(publish->on_audio(0, std::vector<uint8_t>{0xAF, 0x01, 0x01}).ok());
  ASSERT_TRUE(publish->on_video(0, {}).ok());
  ASSERT_TRUE(publish->on_video(0, std::vector<uint8_t>{0x17, 0x02, 0, 0, 0}).ok());  // end of sequence
  EXPECT_TRUE(events().empty());
  EXPECT_EQ(publish->packets(), 0u);
}

TEST_F(RtmpPublishTest, DropsUnsupportedCodecs) {
  ASSERT_TRUE(publish->on_video(0, std::vector<uint8_t>{0x22, 0x00, 0x01}).ok());  // Sorenson H.263
  ASSERT_TRUE(publish->on_audio(0, std::vector<uint8_t>{0x2F, 0x00, 0x01}).ok());  // MP3
  EXPECT_TRUE(events().empty());
}

TEST_F(RtmpPublishTest, RejectsUndecodableBodies) {
  EXPECT_FALSE(publish->on_video(0, std::vector<uint8_t>{0x17, 0x00}).ok());         // truncated AVC prefix
  EXPECT_FALSE(publish->on_video(0, std::vector<uint8_t>{0x17, 0x00, 0, 0, 0, 1}).ok());  // bad AVC config
  EXPECT_FALSE(publish->on_audio(0, std::vector<uint8_t>{0xAF, 0x00}).ok());         // empty ASC
  EXPECT_FALSE(publish->on_video(0, std::vector<uint8_t>{0x91, 'h', 'v'}).ok());     // Enhanced RTMP, cut FourCC
}

TEST_F(RtmpPublishTest, DestroyingItEndsThePublisherSession) {
  EXPECT_TRUE(stream->live());
  publish.reset();
  EXPECT_FALSE(stream->live());
}

}  // namespace
}  // namespace anchorcast
