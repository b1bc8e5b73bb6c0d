#include "h264_test_stream.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>

#include "relay/protocol/flv/flv_header.hpp"
#include "relay/protocol/flv/flv_tag.hpp"
#include "relay/protocol/flv/video_tag.hpp"
#include "relay/protocol/h264/avc_decoder_config.hpp"
#include "relay/protocol/h264/annexb.hpp"
#include "relay/protocol/h264/nal_unit.hpp"
#include "relay/protocol/h264/sps.hpp"
#include "relay/protocol/hevc/hevc_decoder_config.hpp"
#include "relay/protocol/hevc/nal_unit.hpp"
#include "relay/protocol/hevc/sps.hpp"

namespace anchorcast::testing {

H264Stream demux_flv_video(const std::string& path) {
  H264Stream out;
  std::ifstream in(path, std::ios::binary);
  const std::vector<uint8_t> file{std::istreambuf_iterator<char>(in), {}};
  std::span<const uint8_t> rest(file);
  auto header = flv::parse_file_header(rest);
  EXPECT_TRUE(header.ok()) << path;
  if (!header) return out;
  rest = rest.subspan(flv::kFileHeaderWithTagSize0);
  while (!rest.empty()) {
    auto tag = flv::parse_tag(rest);
    EXPECT_TRUE(tag.ok()) << tag.error().message;
    if (!tag) break;
    rest = rest.subspan(tag->size());
    if (tag->header.type != flv::TagType::video) continue;
    auto body = flv::parse_video_tag_body(tag->body);
    EXPECT_TRUE(body.ok());
    if (!body) continue;
    if (body->avc_packet_type == flv::AvcPacketType::sequence_header) {
      out.track.decoder_config.assign(body->data.begin(), body->data.end());
      auto config = h264::parse_avc_decoder_config(body->data);
      EXPECT_TRUE(config.ok());
      auto sps = h264::parse_sps(config->sps.at(0));
      EXPECT_TRUE(sps.ok());
      out.track.width = sps->width;
      out.track.height = sps->height;
      out.track.fps = sps->fps;
    } else if (body->avc_packet_type == flv::AvcPacketType::nalu) {
      auto packet = flv::video_packet_from_tag(*body, tag->header.timestamp_ms);
      EXPECT_TRUE(packet.ok());
      if (packet) out.packets.push_back(std::move(packet).value());
    }
  }
  return out;
}

H264Stream make_test_stream(int width, int height, int fps, double seconds, const std::string& x264_args) {
  static int counter = 0;
  const std::string path = "/tmp/anchorcast-compositor-" + std::to_string(getpid()) + "-" +
                           std::to_string(++counter) + ".flv";
  const std::string command = "ffmpeg -v error -y -f lavfi -i testsrc2=size=" + std::to_string(width) + "x" +
                              std::to_string(height) + ":rate=" + std::to_string(fps) + " -t " +
                              std::to_string(seconds) + " -pix_fmt yuv420p -c:v libx264 " + x264_args +
                              " -f flv " + path;
  const int status = std::system(command.c_str());
  EXPECT_EQ(status, 0) << command;
  H264Stream stream = demux_flv_video(path);
  std::remove(path.c_str());
  return stream;
}

H264Stream make_hevc_test_stream(int width, int height, int fps, double seconds, const std::string& x265_params) {
  static int counter = 0;
  const std::string path = "/tmp/anchorcast-hevc-" + std::to_string(getpid()) + "-" + std::to_string(++counter) +
                           ".hevc";
  const std::string command = "ffmpeg -v error -y -f lavfi -i testsrc2=size=" + std::to_string(width) + "x" +
                              std::to_string(height) + ":rate=" + std::to_string(fps) + " -t " +
                              std::to_string(seconds) + " -pix_fmt yuv420p -c:v libx265 -x265-params log-level=error:aud=1:" +
                              x265_params + " -f hevc " + path;
  const int status = std::system(command.c_str());
  EXPECT_EQ(status, 0) << command;
  std::ifstream in(path, std::ios::binary);
  const std::vector<uint8_t> file{std::istreambuf_iterator<char>(in), {}};
  std::remove(path.c_str());

  H264Stream out;
  out.track.codec = Codec::hevc;
  out.track.fps = fps;
  std::vector<uint8_t> vps, sps, pps;
  Packet* current = nullptr;
  h264::for_each_annexb_nal(file, [&](std::span<const uint8_t> nal) {
    if (nal.size() < 2) return;
    const auto type = hevc::nal_type(nal[0]);
    if (type == hevc::NalType::aud) {
      Packet p;
      p.codec = Codec::hevc;
      p.time_base = kMillis;
      p.pts = p.dts = static_cast<int64_t>(out.packets.size()) * 1000 / fps;
      out.packets.push_back(std::move(p));
      current = &out.packets.back();
      return;
    }
    if (type == hevc::NalType::vps) vps.assign(nal.begin(), nal.end());
    if (type == hevc::NalType::sps) sps.assign(nal.begin(), nal.end());
    if (type == hevc::NalType::pps) pps.assign(nal.begin(), nal.end());
    if (type == hevc::NalType::vps || type == hevc::NalType::sps || type == hevc::NalType::pps || !current) return;
    if (hevc::is_irap(type)) current->keyframe = true;
    const uint32_t n = static_cast<uint32_t>(nal.size());
    const uint8_t length[4] = {uint8_t(n >> 24), uint8_t(n >> 16), uint8_t(n >> 8), uint8_t(n)};
    current->payload.insert(current->payload.end(), length, length + 4);
    current->payload.insert(current->payload.end(), nal.begin(), nal.end());
  });
  auto config = hevc::build_hevc_decoder_config(vps, sps, pps);
  EXPECT_TRUE(config.ok()) << (config ? "" : config.error().message);
  if (config) out.track.decoder_config = *config;
  if (auto parsed = hevc::parse_sps(sps); parsed.ok()) {
    out.track.width = parsed->width;
    out.track.height = parsed->height;
  }
  return out;
}

}  // namespace anchorcast::testing
