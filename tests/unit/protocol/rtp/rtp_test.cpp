// RTP header, and the H.264 packetizer against the depacketizer: random access units
// (some over 64 KiB) survive the round trip, keyframes start with a STAP-A of SPS+PPS,
// small NAL units share STAP-As greedily and FU-A runs keep full-size fragments.
#include <gtest/gtest.h>

#include <optional>
#include <random>
#include <vector>

#include "relay/protocol/rtp/h264_depacketizer.hpp"
#include "relay/protocol/rtp/h264_packetizer.hpp"
#include "relay/protocol/rtp/rtp_header.hpp"

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

Sent packetize(H264Packetizer& p, const std::vector<uint8_t>& au, uint32_t ts,
               size_t max_packet_size = kDefaultMaxPacketSize) {
  Sent sent;
  EXPECT_TRUE(p.begin(au, 4, ts).ok());
  std::vector<uint8_t> buffer(max_packet_size);
  PacketInfo info;
  while (size_t n = p.next(buffer, info)) {
    EXPECT_LE(n, max_packet_size);
    sent.packets.emplace_back(buffer.begin(), buffer.begin() + static_cast<long>(n));
    sent.infos.push_back(info);
  }
  return sent;
}

std::optional<AccessUnit> depacketize(const Sent& sent) {
  H264Depacketizer d;
  std::optional<AccessUnit> out;
  for (const auto& packet : sent.packets) {
    auto view = parse_rtp(packet);
    EXPECT_TRUE(view.ok());
    if (!view.ok()) return std::nullopt;
    auto r = d.push(view->payload, view->header.sequence, view->header.timestamp, view->header.marker);
    EXPECT_TRUE(r.ok()) << r.error().message;
    if (!r.ok()) return std::nullopt;
    if (*r) out = std::move(*r);
  }
  return out;
}

uint8_t payload_type_of(const std::vector<uint8_t>& packet) { return packet[12] & 0x1F; }

// The sizes of the NAL units in a STAP-A packet (RFC 6184 §5.7.1).
std::vector<size_t> stap_a_unit_sizes(const std::vector<uint8_t>& packet) {
  std::vector<size_t> sizes;
  for (size_t pos = 13; pos + 2 <= packet.size();) {
    const size_t size = size_t{packet[pos]} << 8 | packet[pos + 1];
    sizes.push_back(size);
    pos += 2 + size;
  }
  return sizes;
}

// What greedy aggregation promises, packet by packet: within max_packet_size; a STAP-A
// holds at least two units; every FU-A fragment but a unit's last fills the packet; and
// a single NAL unit packet or STAP-A could not have taken the next packet's first unit.
void expect_greedy_packetization(const Sent& sent, size_t max_packet_size) {
  const size_t max_payload = max_packet_size - 12;
  for (size_t i = 0; i < sent.packets.size(); ++i) {
    const auto& packet = sent.packets[i];
    const size_t payload = packet.size() - 12;
    ASSERT_LE(packet.size(), max_packet_size) << "packet " << i;
    const uint8_t type = payload_type_of(packet);
    if (type == 28) {
      if (!(packet[13] & 0x40)) {
        EXPECT_EQ(packet.size(), max_packet_size) << "FU-A fragment " << i << " not full";
      }
      continue;
    }
    size_t as_stap_a = 1 + 2 + payload;  // a single NAL unit packet as the start of a STAP-A
    if (type == 24) {
      EXPECT_GE(stap_a_unit_sizes(packet).size(), 2u) << "STAP-A of one unit in packet " << i;
      as_stap_a = payload;
    }
    if (i + 1 == sent.packets.size()) continue;
    const auto& next = sent.packets[i + 1];
    const uint8_t next_type = payload_type_of(next);
    if (next_type == 28) continue;  // a unit too big for a packet of its own
    const size_t next_unit = next_type == 24 ? stap_a_unit_sizes(next).front() : next.size() - 12;
    EXPECT_GT(as_stap_a + 2 + next_unit, max_payload) << "packet " << i << " could have taken the next unit";
  }
}

std::vector<uint8_t> avcc_of(const std::vector<std::vector<uint8_t>>& nals) {
  std::vector<uint8_t> avcc;
  for (const auto& nal : nals) append_nal(avcc, nal);
  return avcc;
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
    expect_greedy_packetization(sent, kDefaultMaxPacketSize);
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
  ASSERT_EQ(sent.packets.size(), 1u);  // STAP-A of SPS, PPS and the IDR slice
  auto out = depacketize(sent);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->avcc, au);
}

TEST(H264Packetizer, AggregatesTheSmallSlicesOfAFrameIntoOneStapA) {
  // x264 with sliced threads (-tune zerolatency): a P frame of three small slices, which
  // went as three packets when every unit that fitted went alone.
  std::mt19937 rng(7);
  const std::vector<std::vector<uint8_t>> slices = {random_nal(rng, 0x41, 310), random_nal(rng, 0x41, 280),
                                                    random_nal(rng, 0x41, 295)};
  H264Packetizer packetizer({.ssrc = 1});
  packetizer.set_parameter_sets(kSps, kPps);
  Sent sent = packetize(packetizer, avcc_of(slices), 3000);
  ASSERT_EQ(sent.packets.size(), 1u);
  EXPECT_EQ(sent.packets[0][12], 0x40 | 24) << "F 0, NRI of the slices, STAP-A";
  EXPECT_EQ(stap_a_unit_sizes(sent.packets[0]), (std::vector<size_t>{310, 280, 295}));
  EXPECT_EQ(sent.packets[0].size(), 12u + 1 + 3 * 2 + 310 + 280 + 295);
  EXPECT_TRUE(sent.infos[0].marker);
  EXPECT_FALSE(sent.infos[0].keyframe_start);
  auto out = depacketize(sent);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->avcc, avcc_of(slices));
  EXPECT_FALSE(out->keyframe);
}

TEST(H264Packetizer, StapAHeaderTakesTheHighestNriAndAnyFBit) {
  // RFC 6184 §5.7: F is set if any aggregated unit's F is; NRI is the maximum.
  H264Packetizer packetizer({.ssrc = 1});
  Sent low = packetize(packetizer, avcc_of({{0x01, 1}, {0x21, 2}}), 0);
  ASSERT_EQ(low.packets.size(), 1u);
  EXPECT_EQ(low.packets[0][12], 0x20 | 24);
  Sent high = packetize(packetizer, avcc_of({{0x21, 1}, {0x86, 2}, {0x41, 3}}), 3000);
  ASSERT_EQ(high.packets.size(), 1u);
  EXPECT_EQ(high.packets[0][12], 0x80 | 0x40 | 24);
}

TEST(H264Packetizer, KeyframeParameterSetsShareAStapAWithASmallIdr) {
  std::mt19937 rng(11);
  const auto idr = random_nal(rng, 0x65, 700);
  H264Packetizer packetizer({.ssrc = 1});
  packetizer.set_parameter_sets(kSps, kPps);
  std::vector<uint8_t> au;
  append_nal(au, {0x09, 0xf0});  // AUD: not sent
  append_nal(au, idr);
  Sent sent = packetize(packetizer, au, 0);
  ASSERT_EQ(sent.packets.size(), 1u);
  EXPECT_EQ(sent.packets[0][12], 0x60 | 24);
  EXPECT_EQ(stap_a_unit_sizes(sent.packets[0]), (std::vector<size_t>{kSps.size(), kPps.size(), idr.size()}));
  EXPECT_TRUE(sent.infos[0].keyframe_start);
  EXPECT_TRUE(sent.infos[0].marker);
  auto out = depacketize(sent);
  ASSERT_TRUE(out);
  EXPECT_TRUE(out->keyframe);
  EXPECT_EQ(out->avcc, avcc_of({kSps, kPps, idr}));

  // The next frame is not a keyframe: no parameter sets, no keyframe_start.
  Sent p_frame = packetize(packetizer, avcc_of({{0x41, 1, 2, 3}}), 3000);
  ASSERT_EQ(p_frame.packets.size(), 1u);
  EXPECT_EQ(payload_type_of(p_frame.packets[0]), 1) << "one unit goes as a single NAL unit packet, not a STAP-A";
  EXPECT_FALSE(p_frame.infos[0].keyframe_start);
}

TEST(H264Packetizer, SplitsUnitsThatDoNotFitTogetherGreedily) {
  std::mt19937 rng(13);
  std::vector<std::vector<uint8_t>> nals;
  for (size_t size : std::initializer_list<size_t>{500, 500, 500, 300, 100, 1100}) nals.push_back(random_nal(rng, 0x41, size));
  H264Packetizer packetizer({.ssrc = 1});
  Sent sent = packetize(packetizer, avcc_of(nals), 0);
  // 1 + 2×502 fits in 1188 bytes, a third 502 does not; then 500+300+100; then 1100 alone.
  ASSERT_EQ(sent.packets.size(), 3u);
  EXPECT_EQ(payload_type_of(sent.packets[0]), 24);
  EXPECT_EQ(stap_a_unit_sizes(sent.packets[0]), (std::vector<size_t>{500, 500}));
  EXPECT_EQ(payload_type_of(sent.packets[1]), 24);
  EXPECT_EQ(stap_a_unit_sizes(sent.packets[1]), (std::vector<size_t>{500, 300, 100}));
  EXPECT_EQ(payload_type_of(sent.packets[2]), 1);
  EXPECT_EQ(sent.packets[2].size(), 12u + 1100);
  for (size_t i = 0; i < sent.packets.size(); ++i) EXPECT_EQ(sent.infos[i].marker, i == 2);
  expect_greedy_packetization(sent, kDefaultMaxPacketSize);
  auto out = depacketize(sent);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->avcc, avcc_of(nals));
}

TEST(H264Packetizer, UnitsThatFitExactlyShareAStapA) {
  // 1188-byte payload: 1 + (2 + 590) + (2 + 593) is exactly full; one byte more is not.
  H264Packetizer packetizer({.ssrc = 1});
  std::mt19937 rng(17);
  const auto a = random_nal(rng, 0x41, 590);
  Sent exact = packetize(packetizer, avcc_of({a, random_nal(rng, 0x41, 593)}), 0);
  ASSERT_EQ(exact.packets.size(), 1u);
  EXPECT_EQ(exact.packets[0].size(), kDefaultMaxPacketSize);
  Sent over = packetize(packetizer, avcc_of({a, random_nal(rng, 0x41, 594)}), 3000);
  ASSERT_EQ(over.packets.size(), 2u);
  EXPECT_EQ(payload_type_of(over.packets[0]), 1);
  EXPECT_EQ(payload_type_of(over.packets[1]), 1);
}

TEST(H264Packetizer, AggregatesSmallUnitsAroundAnFuARun) {
  std::mt19937 rng(19);
  const std::vector<std::vector<uint8_t>> nals = {random_nal(rng, 0x06, 40),   random_nal(rng, 0x65, 200),
                                                  random_nal(rng, 0x65, 5000), random_nal(rng, 0x65, 60),
                                                  random_nal(rng, 0x65, 70)};
  H264Packetizer packetizer({.ssrc = 1});
  packetizer.set_parameter_sets(kSps, kPps);
  Sent sent = packetize(packetizer, avcc_of(nals), 0);
  // STAP-A(SPS, PPS, SEI, slice), 5 FU-A fragments of the 5000-byte slice
  // (4999 bytes after its header, 1186 per fragment), STAP-A(slice, slice).
  ASSERT_EQ(sent.packets.size(), 7u);
  EXPECT_EQ(payload_type_of(sent.packets[0]), 24);
  EXPECT_EQ(stap_a_unit_sizes(sent.packets[0]), (std::vector<size_t>{kSps.size(), kPps.size(), 40, 200}));
  EXPECT_TRUE(sent.infos[0].keyframe_start);
  for (size_t i = 1; i <= 5; ++i) {
    EXPECT_EQ(payload_type_of(sent.packets[i]), 28);
    EXPECT_EQ(sent.packets[i][13] & 0x80, i == 1 ? 0x80 : 0) << "start bit, fragment " << i;
    EXPECT_EQ(sent.packets[i][13] & 0x40, i == 5 ? 0x40 : 0) << "end bit, fragment " << i;
    if (i < 5) {
      EXPECT_EQ(sent.packets[i].size(), kDefaultMaxPacketSize) << "equal full-size fragments (UDP GSO)";
    }
  }
  EXPECT_EQ(sent.packets[5].size(), 12u + 2 + (4999 - 4 * 1186));
  EXPECT_EQ(payload_type_of(sent.packets[6]), 24);
  EXPECT_EQ(stap_a_unit_sizes(sent.packets[6]), (std::vector<size_t>{60, 70}));
  for (size_t i = 0; i < sent.packets.size(); ++i) {
    EXPECT_EQ(sent.infos[i].marker, i == 6);
    EXPECT_EQ(sent.infos[i].keyframe_start, i == 0);
  }
  expect_greedy_packetization(sent, kDefaultMaxPacketSize);
  auto out = depacketize(sent);
  ASSERT_TRUE(out);
  EXPECT_TRUE(out->keyframe);
  std::vector<std::vector<uint8_t>> expected = {kSps, kPps};
  expected.insert(expected.end(), nals.begin(), nals.end());
  EXPECT_EQ(out->avcc, avcc_of(expected));
}

TEST(H264Packetizer, RoundTripsRandomSmallUnitsAtSmallPacketSizes) {
  // Many small units against small packets: aggregation, single units and FU-A mixed.
  std::mt19937 rng(23);
  H264Depacketizer depacketizer;
  uint16_t sequence = 0;
  for (size_t max_packet_size : std::initializer_list<size_t>{15, 16, 40, 200, 1200}) {
    H264Packetizer packetizer({.ssrc = 1, .first_sequence = sequence, .max_packet_size = max_packet_size});
    packetizer.set_parameter_sets(kSps, kPps);
    for (int au_index = 0; au_index < 40; ++au_index) {
      std::vector<std::vector<uint8_t>> nals;
      const bool keyframe = au_index % 8 == 0;
      if (keyframe) nals = {kSps, kPps};
      const int count = 1 + static_cast<int>(rng() % 6);
      for (int n = 0; n < count; ++n) {
        const size_t limit = rng() % 4 == 0 ? 3000 : 300;
        nals.push_back(random_nal(rng, keyframe ? 0x65 : 0x41, 1 + rng() % limit));
      }
      const std::vector<uint8_t> avcc = avcc_of(keyframe ? std::vector(nals.begin() + 2, nals.end()) : nals);
      Sent sent = packetize(packetizer, avcc, static_cast<uint32_t>(au_index) * 3000, max_packet_size);
      ASSERT_FALSE(sent.packets.empty());
      expect_greedy_packetization(sent, max_packet_size);
      EXPECT_EQ(sent.infos.front().keyframe_start, keyframe);
      std::optional<AccessUnit> out;
      for (const auto& packet : sent.packets) {
        auto view = parse_rtp(packet);
        ASSERT_TRUE(view.ok());
        auto r = depacketizer.push(view->payload, view->header.sequence, view->header.timestamp, view->header.marker);
        ASSERT_TRUE(r.ok()) << r.error().message;
        if (*r) out = std::move(*r);
      }
      ASSERT_TRUE(out) << "max " << max_packet_size << ", access unit " << au_index;
      EXPECT_EQ(out->avcc, avcc_of(nals)) << "max " << max_packet_size << ", access unit " << au_index;
    }
    sequence = packetizer.next_sequence();
  }
  EXPECT_EQ(depacketizer.dropped_access_units(), 0u);
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
