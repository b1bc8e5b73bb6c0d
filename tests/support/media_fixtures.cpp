#include "media_fixtures.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iterator>

#include "relay/protocol/aac/audio_specific_config.hpp"
#include "relay/protocol/flv/audio_tag.hpp"
#include "relay/protocol/flv/flv_header.hpp"
#include "relay/protocol/flv/flv_tag.hpp"
#include "relay/protocol/flv/video_tag.hpp"
#include "relay/protocol/h264/avc_decoder_config.hpp"
#include "relay/protocol/h264/sps.hpp"

namespace anchorcast::fixtures {

std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

DemuxedFlv load_small_flv() {
  DemuxedFlv out;
  const auto file = read_file(std::string(ANCHORCAST_TEST_DATA) + "/small_320x180_h264_aac.flv");
  std::span<const uint8_t> rest(file);
  auto header = flv::parse_file_header(rest);
  EXPECT_TRUE(header.ok());
  if (!header) return out;
  rest = rest.subspan(flv::kFileHeaderWithTagSize0);
  while (!rest.empty()) {
    auto tag = flv::parse_tag(rest);
    EXPECT_TRUE(tag.ok()) << tag.error().message;
    if (!tag) break;
    rest = rest.subspan(tag->size());
    if (tag->header.type == flv::TagType::video) {
      auto body = flv::parse_video_tag_body(tag->body);
      EXPECT_TRUE(body.ok());
      if (body->avc_packet_type == flv::AvcPacketType::sequence_header) {
        VideoTrack v;
        v.decoder_config.assign(body->data.begin(), body->data.end());
        auto config = h264::parse_avc_decoder_config(body->data);
        EXPECT_TRUE(config.ok());
        auto sps = h264::parse_sps(config->sps.at(0));
        v.width = sps->width;
        v.height = sps->height;
        v.fps = sps->fps;
        out.tracks.video = v;
      } else if (body->avc_packet_type == flv::AvcPacketType::nalu) {  // FFmpeg ends with end_of_sequence
        auto p = flv::video_packet_from_tag(*body, tag->header.timestamp_ms);
        EXPECT_TRUE(p.ok());
        out.packets.push_back(std::make_shared<const Packet>(std::move(p).value()));
      }
    } else if (tag->header.type == flv::TagType::audio) {
      auto body = flv::parse_audio_tag_body(tag->body);
      EXPECT_TRUE(body.ok());
      if (body->aac_packet_type == flv::AacPacketType::sequence_header) {
        AudioTrack a;
        a.decoder_config.assign(body->data.begin(), body->data.end());
        auto asc = aac::parse_audio_specific_config(body->data);
        EXPECT_TRUE(asc.ok());
        a.sample_rate = static_cast<int>(asc->output_sample_rate());
        a.channels = asc->channels();
        out.tracks.audio = a;
      } else {
        auto p = flv::audio_packet_from_tag(*body, tag->header.timestamp_ms);
        EXPECT_TRUE(p.ok());
        out.packets.push_back(std::make_shared<const Packet>(std::move(p).value()));
      }
    }
  }
  return out;
}

std::vector<PacketPtr> repeat_packets(const std::vector<PacketPtr>& base, int times, int64_t period_ms) {
  std::vector<PacketPtr> out;
  for (int i = 0; i < times; ++i)
    for (const auto& p : base) {
      if (p->dts_in(kMillis) >= period_ms) continue;  // would overlap the next copy
      Packet copy = *p;
      const int64_t shift = rescale(period_ms * i, kMillis, copy.time_base);
      copy.dts += shift;
      copy.pts += shift;
      out.push_back(std::make_shared<const Packet>(std::move(copy)));
    }
  return out;
}

PacketPtr tiny_video(int64_t dts_ms, bool key) {
  Packet p;
  p.kind = MediaKind::video;
  p.codec = Codec::h264;
  p.keyframe = key;
  p.dts = p.pts = dts_ms;
  p.payload = {0, 0, 0, 3, static_cast<uint8_t>(key ? 0x65 : 0x41), 0x88, 0x80};
  return std::make_shared<const Packet>(std::move(p));
}

std::string run_command(const std::string& command, int* status) {
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  int rc = pclose(pipe);
  if (status) *status = rc;
  return out;
}

std::string temp_path(const std::string& suffix) {
  static int counter = 0;
  return "/tmp/anchorcast-media-" + std::to_string(getpid()) + "-" + std::to_string(++counter) + suffix;
}

}  // namespace anchorcast::fixtures
