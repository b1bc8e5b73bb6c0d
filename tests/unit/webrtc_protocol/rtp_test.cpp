// RTP header, and the H.264 packetizer against the depacketizer: random access units
// (some over 64 KiB) survive the round trip, keyframes start with a STAP-A of SPS+PPS.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "protocol/rtp/h264_depacketizer.hpp"
#include "protocol/rtp/h264_packetizer.hpp"
#include "protocol/rtp/rtp_header.hpp"

using namespace anchorcast::rtp;

namespace {

const std::vector<uint8_t> kSps = {0x67, 0x42, 0xc0, 0x1f, 0xda, 0x01, 0x40, 0x16, 0xec, 0x04, 0x40};
const std::vector<uint8_t> kPps = {0x68, 0xce, 0x3c, 0x80};

void append_nal(std::vector<uint8_t>& avcc, const std::vector<uint8_t>& nal) {
  const size_t n = nal.size();
  avcc.insert(avcc.end(), {uint8_t(n >> 24), uint8_t(n >> 16), uint8_t(n >> 8), uint8_t(n)});
  avcc.insert(avcc.end(), nal.begin(), nal.end());
}

std::vector<uint8_t> random_nal(std::mt19937& rng, uint8_t header, size_t size) {
  std::vector<uint8_t> nal(size);
  nal[0] = header;
  for (size_t i = 1; i < size; ++i) nal[i] = static_cast<uint8_t>(rng());
  return nal;
}

struct Sent {
  std::vector<std::vector<uint8_t>> packets;
  std::vector<PacketInfo> infos;
};

Sent packetize(H264Packetizer& p, const std::vector<uint8_t>& au, uint32_t ts) {
  Sent sent;
  EXPECT_TRUE(p.begin(au, 4, ts).ok());
  std::vector<uint8_t> buffer(kDefaultMaxPacketSize);
  PacketInfo info;
  while (size_t n = p.next(buffer, info)) {
    EXPECT_LE(n, kDefaultMaxPacketSize);
    sent.packets.emplace_back(buffer.begin(), buffer.begin() + static_cast<long>(n));
    sent.infos.push_back(info);
  }
  return sent;
}

}  // namespace

TEST(RtpHeader, RoundTripsCsrcsAndExtension) {
  RtpHeader h;
  h.marker = true;
  h.payload_type = 111;
  h.sequence = 65535;
  h.timestamp = 0xdeadbeef;
  h.ssrc = 0x01020304;
  h.csrc_count = 2;
  h.csrcs[0] = 7;
  h.csrcs[1] = 8;
  const std::vector<uint8_t> ext = {0x10, 0xaa, 0, 0};
  h.has_extension = true;
  h.extension_profile = 0xBEDE;
  h.extension = ext;
  std::vector<uint8_t> bytes(64);
  auto size = write_rtp_header(h, bytes);
  ASSERT_TRUE(size.ok()) << size.error().message;
  EXPECT_EQ(*size, 12u + 8u + 8u);
  bytes.resize(*size);
  bytes.insert(bytes.end(), {1, 2, 3, 0, 0, 3});  // payload 1 2 3, 3 bytes of padding
  bytes[0] |= 0x20;
  auto v = parse_rtp(bytes);
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_TRUE(v->header.marker);
  EXPECT_EQ(v->header.payload_type, 111);
  EXPECT_EQ(v->header.sequence, 65535);
  EXPECT_EQ(v->header.timestamp, 0xdeadbeefu);
  EXPECT_EQ(v->header.ssrc, 0x01020304u);
  EXPECT_EQ(v->header.csrc_count, 2);
  EXPECT_EQ(v->header.csrcs[1], 8u);
  EXPECT_EQ(v->header.extension_profile, 0xBEDE);
  EXPECT_EQ(std::vector<uint8_t>(v->header.extension.begin(), v->header.extension.end()), ext);
  EXPECT_EQ(v->padding_size, 3u);
  EXPECT_EQ(std::vector<uint8_t>(v->payload.begin(), v->payload.end()), (std::vector<uint8_t>{1, 2, 3}));
}

TEST(RtpHeader, RefusesMalformedPackets) {
  std::vector<uint8_t> p = {0x80, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1};
  EXPECT_TRUE(parse_rtp(p).ok());
  for (size_t n = 0; n < p.size(); ++n) EXPECT_FALSE(parse_rtp(std::span(p).first(n)).ok());
  auto v1 = p;
  v1[0] = 0x40;
  EXPECT_FALSE(parse_rtp(v1).ok());
  auto csrc = p;
  csrc[0] = 0x81;  // one CSRC, none present
  EXPECT_FALSE(parse_rtp(csrc).ok());
  auto ext = p;
  ext[0] = 0x90;
  ext.insert(ext.end(), {0xbe, 0xde, 0x00, 0x05});  // 5 words, none present
  EXPECT_FALSE(parse_rtp(ext).ok());
  auto pad = p;
  pad[0] = 0xa0;
  pad.push_back(9);  // 9 bytes of padding in a 1-byte payload
  EXPECT_FALSE(parse_rtp(pad).ok());
  pad.back() = 0;
  EXPECT_FALSE(parse_rtp(pad).ok());
}

TEST(H264Packetizer, RoundTripsRandomAccessUnits) {
  std::mt19937 rng(5);
  H264Packetizer packetizer({.payload_type = 102, .ssrc = 42, .first_sequence = 65000});
  packetizer.set_parameter_sets(kSps, kPps);
  H264Depacketizer depacketizer;
  const std::vector<size_t> sizes = {1, 2, 100, 1186, 1187, 1188, 1189, 5000, 65535, 65536, 70000, 300000};
  size_t sent_packets = 0;
  for (int au_index = 0; au_index < 60; ++au_index) {
    const bool keyframe = au_index % 10 == 0;
    std::vector<uint8_t> au;
    std::vector<uint8_t> expected;
    append_nal(au, {0x09, 0xf0});  // AUD: not sent
    if (keyframe) {
      append_nal(expected, kSps);
      append_nal(expected, kPps);
    }
    const int nal_count = 2 + static_cast<int>(rng() % 2);
    for (int n = 0; n < nal_count; ++n) {
      const size_t size = au_index < static_cast<int>(sizes.size()) ? sizes[static_cast<size_t>(au_index)]
                                                                        : 1 + rng() % 90000;
      const uint8_t header = n == 0 ? 0x06 : static_cast<uint8_t>(keyframe ? 0x65 : 0x41);  // SEI, then slices
      auto nal = random_nal(rng, header, size);
      append_nal(au, nal);
      append_nal(expected, nal);
    }
    const uint32_t ts = 3000u * static_cast<uint32_t>(au_index);
    Sent sent = packetize(packetizer, au, ts);
    ASSERT_FALSE(sent.packets.empty());
    EXPECT_EQ(sent.infos.front().keyframe_start, keyframe);
    if (keyframe) {
      EXPECT_EQ(sent.packets.front()[12] & 0x1F, 24) << "STAP-A first";
    }
    std::optional<AccessUnit> out;
    for (size_t i = 0; i < sent.packets.size(); ++i) {
      auto view = parse_rtp(sent.packets[i]);
      ASSERT_TRUE(view.ok());
      EXPECT_EQ(view->header.ssrc, 42u);
      EXPECT_EQ(view->header.payload_type, 102);
      EXPECT_EQ(view->header.timestamp, ts);
      EXPECT_EQ(view->header.sequence, static_cast<uint16_t>(65000 + sent_packets + i));
      EXPECT_EQ(view->header.marker, i + 1 == sent.packets.size());
      EXPECT_EQ(sent.infos[i].marker, view->header.marker);
      auto r = depacketizer.push(view->payload, view->header.sequence, view->header.timestamp, view->header.marker);
      ASSERT_TRUE(r.ok()) << r.error().message;
      if (*r) out = std::move(*r);
    }
    sent_packets += sent.packets.size();
    ASSERT_TRUE(out) << "access unit " << au_index;
    EXPECT_EQ(out->keyframe, keyframe);
    EXPECT_EQ(out->timestamp, ts);
    EXPECT_EQ(out->avcc, expected) << "access unit " << au_index;
  }
  EXPECT_EQ(depacketizer.dropped_access_units(), 0u);
}

TEST(H264Packetizer, UsesTheAccessUnitsOwnParameterSets) {
  H264Packetizer packetizer({.ssrc = 1});
  packetizer.set_parameter_sets(kSps, kPps);
  std::vector<uint8_t> own_sps = kSps;
  own_sps.push_back(0x99);
  std::vector<uint8_t> au;
  append_nal(au, own_sps);
  append_nal(au, kPps);
  append_nal(au, {0x65, 1, 2, 3});
  Sent sent = packetize(packetizer, au, 0);
  ASSERT_EQ(sent.packets.size(), 2u);  // STAP-A, IDR
  H264Depacketizer d;
  (void)d.push(std::span(sent.packets[0]).subspan(12), 0, 0, false);
  auto r = d.push(std::span(sent.packets[1]).subspan(12), 1, 0, true);
  ASSERT_TRUE(r.ok() && *r);
  EXPECT_EQ((*r)->avcc, au);
}

TEST(H264Packetizer, NoAllocationPerPacket) {
  // The packetizer writes into the caller's buffer; its NAL list keeps its capacity.
  H264Packetizer packetizer({.ssrc = 1});
  std::vector<uint8_t> au;
  append_nal(au, std::vector<uint8_t>(50000, 0x41));
  std::vector<uint8_t> buffer(kDefaultMaxPacketSize);
  PacketInfo info;
  size_t packets = 0;
  ASSERT_TRUE(packetizer.begin(au, 4, 0).ok());
  while (packetizer.next(buffer, info)) ++packets;
  EXPECT_EQ(packets, (50000 - 1 + 1185) / 1186);
  EXPECT_EQ(packetizer.next(std::span(buffer).first(100), info), 0u) << "a short buffer writes nothing";
}

TEST(H264Depacketizer, DropsAnAccessUnitWithALostFragment) {
  H264Packetizer packetizer({.ssrc = 1});
  std::vector<uint8_t> big;
  append_nal(big, std::vector<uint8_t>(5000, 0x41));
  std::vector<uint8_t> small;
  append_nal(small, {0x41, 1, 2});
  Sent a = packetize(packetizer, big, 100);
  Sent b = packetize(packetizer, small, 200);
  H264Depacketizer d;
  uint16_t seq = 0;
  for (size_t i = 0; i < a.packets.size(); ++i, ++seq) {
    if (i == 2) continue;  // lost
    auto view = parse_rtp(a.packets[i]);
    auto r = d.push(view->payload, view->header.sequence, view->header.timestamp, view->header.marker);
    if (r.ok()) {
      EXPECT_FALSE(*r);
    }
  }
  auto view = parse_rtp(b.packets[0]);
  auto r = d.push(view->payload, view->header.sequence, view->header.timestamp, view->header.marker);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_TRUE(*r);
  EXPECT_EQ((*r)->avcc, small);
  EXPECT_EQ(d.dropped_access_units(), 1u);
}

TEST(H264Depacketizer, RefusesMalformedPayloads) {
  H264Depacketizer d;
  EXPECT_FALSE(d.push({}, 0, 0, true).ok());
  const std::vector<uint8_t> stap_overrun = {24, 0x00, 0x09, 0x67};
  EXPECT_FALSE(d.push(stap_overrun, 1, 1, true).ok());
  const std::vector<uint8_t> fu_middle = {28, 0x05, 1, 2};
  EXPECT_FALSE(d.push(fu_middle, 2, 2, true).ok());
  const std::vector<uint8_t> stap_b = {25, 0, 0};
  EXPECT_FALSE(d.push(stap_b, 3, 3, true).ok());
  const std::vector<uint8_t> ok = {0x41, 1};
  auto r = d.push(ok, 4, 4, true);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(*r);
}

TEST(H264Packetizer, RefusesNalTypesRtpCannotCarry) {
  H264Packetizer packetizer({.ssrc = 1});
  for (uint8_t type : {0, 24, 28, 31}) {
    std::vector<uint8_t> au;
    append_nal(au, {type, 1, 2});
    EXPECT_FALSE(packetizer.begin(au, 4, 0).ok()) << int{type};
    std::vector<uint8_t> buffer(kDefaultMaxPacketSize);
    PacketInfo info;
    EXPECT_EQ(packetizer.next(buffer, info), 0u);
  }
}

TEST(H264Depacketizer, RefusesPacketizationTypesInsideAggregates) {
  H264Depacketizer d;
  const std::vector<uint8_t> stap_with_fu = {24, 0x00, 0x02, 28, 0x85};
  EXPECT_FALSE(d.push(stap_with_fu, 0, 0, true).ok());
  const std::vector<uint8_t> fu_of_type_0 = {28, 0xc0, 1, 2};
  EXPECT_FALSE(d.push(fu_of_type_0, 1, 1, true).ok());
}
