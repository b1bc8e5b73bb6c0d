#include "hevc_fixture.hpp"

#include <gtest/gtest.h>

#include "media_fixtures.hpp"
#include "relay/protocol/bits/byte_writer.hpp"
#include "relay/protocol/fmp4/in_band_parameter_sets.hpp"
#include "relay/protocol/h264/nal_unit.hpp"
#include "relay/protocol/hevc/hevc_decoder_config.hpp"
#include "relay/protocol/hevc/nal_unit.hpp"
#include "relay/protocol/mpegts/ts_demuxer.hpp"

namespace anchorcast::fixtures {
namespace {

bool carries_vps(const Packet& p) {
  bool vps = false;
  (void)h264::for_each_avcc_nal(p.bytes(), 4, [&](std::span<const uint8_t> nal) {
    vps |= hevc::nal_type(nal[0]) == hevc::NalType::vps;
  });
  return vps;
}

}  // namespace

HevcFixture load_hevc_fixture() {
  HevcFixture out;
  const auto ts = read_file(std::string(ANCHORCAST_TEST_DATA) + "/hevc_aac_320x240.ts");
  EXPECT_FALSE(ts.empty());
  TsDemuxer demuxer;
  std::vector<TsDemuxEvent> events;
  demuxer.feed(ts, events);
  demuxer.finish(events);
  for (auto& e : events) {
    if (e.type == TsDemuxEvent::Type::tracks)
      out.tracks = e.tracks;
    else
      out.packets.push_back(std::make_shared<const Packet>(std::move(e.packet)));
  }
  EXPECT_TRUE(out.tracks.video && out.tracks.video->codec == Codec::hevc);
  EXPECT_TRUE(out.tracks.audio && out.tracks.audio->codec == Codec::aac);
  if (out.tracks.video && out.tracks.video->decoder_config.empty()) {
    for (const auto& p : out.packets) {
      if (p->kind != MediaKind::video || !p->keyframe) continue;
      auto record = fmp4::decoder_config_for_keyframe(Codec::hevc, {}, p->bytes());
      EXPECT_TRUE(record.ok() && *record) << (record.ok() ? "no parameter sets" : record.error().message);
      if (record.ok() && *record) out.tracks.video->decoder_config = **record;
      break;
    }
  }
  return out;
}

HevcFixture with_parameter_sets_in_band(const HevcFixture& fixture) {
  HevcFixture out = fixture;
  auto record = hevc::parse_hevc_decoder_config(fixture.tracks.video->decoder_config);
  EXPECT_TRUE(record.ok());
  if (!record) return out;
  std::vector<uint8_t> parameter_sets;
  for (const auto& array : record->arrays)
    for (const auto& nal : array.nal_units) {
      bits::append_be32(parameter_sets, static_cast<uint32_t>(nal.size()));
      parameter_sets.insert(parameter_sets.end(), nal.begin(), nal.end());
    }
  out.tracks.video->decoder_config.clear();
  for (auto& p : out.packets) {
    if (p->kind != MediaKind::video || !p->keyframe || carries_vps(*p)) continue;
    Packet copy = *p;
    copy.payload = parameter_sets;
    copy.payload.insert(copy.payload.end(), p->bytes().begin(), p->bytes().end());
    copy.payload_offset = 0;
    p = std::make_shared<const Packet>(std::move(copy));
  }
  return out;
}

}  // namespace anchorcast::fixtures
