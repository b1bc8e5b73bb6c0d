// RTP H.264 packetization cost per access unit, as the WebRTC feed does it once per
// stream: 720p30-like AUs (a 60 KB IDR every 2 s, ~11 KB P frames) into a reused
// 1200-byte buffer, beside a copy floor (the same bytes memcpy'd in 1188-byte pieces)
// and the feed's real shape (each packet copied into its own shared RtpPacket).
// Bytes processed = access unit payload bytes.
#include <benchmark/benchmark.h>

#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "relay/egress/webrtc/feed/rtp_packet.hpp"
#include "relay/protocol/rtp/h264_packetizer.hpp"

namespace {

using namespace anchorcast;

const std::vector<uint8_t> kSps = {0x67, 0x64, 0x00, 0x1f, 0xac, 0xd9, 0x40, 0x50, 0x05, 0xbb, 0x01, 0x10};
const std::vector<uint8_t> kPps = {0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0};

std::vector<std::vector<uint8_t>> make_access_units(size_t count) {
  std::mt19937 rng(42);
  std::normal_distribution<double> p_size(11000, 2500);
  std::vector<std::vector<uint8_t>> aus;
  for (size_t i = 0; i < count; ++i) {
    const bool idr = i % 60 == 0;
    const size_t size = idr ? 60000 : static_cast<size_t>(std::max(1000.0, p_size(rng)));
    std::vector<uint8_t> au = {0, 0, 0, 6, 0x06, 5, 1, 0xff, 0x80, 0x80};  // SEI
    au.insert(au.end(), {uint8_t(size >> 24), uint8_t(size >> 16), uint8_t(size >> 8), uint8_t(size)});
    au.push_back(idr ? 0x65 : 0x41);
    for (size_t b = 1; b < size; ++b) au.push_back(static_cast<uint8_t>(rng()));
    aus.push_back(std::move(au));
  }
  return aus;
}

void BM_PacketizeIntoReusedBuffer(benchmark::State& state) {
  const auto aus = make_access_units(120);
  rtp::H264Packetizer packetizer({.payload_type = 102, .ssrc = 1});
  packetizer.set_parameter_sets(kSps, kPps);
  std::vector<uint8_t> buffer(rtp::kDefaultMaxPacketSize);
  rtp::PacketInfo info;
  size_t bytes = 0, packets = 0, i = 0;
  for (auto _ : state) {
    const auto& au = aus[i++ % aus.size()];
    (void)packetizer.begin(au, 4, static_cast<uint32_t>(i * 3000));
    while (size_t n = packetizer.next(buffer, info)) {
      benchmark::DoNotOptimize(buffer.data());
      benchmark::DoNotOptimize(n);
      ++packets;
    }
    bytes += au.size();
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.counters["packets/AU"] = static_cast<double>(packets) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_PacketizeIntoReusedBuffer);

void BM_CopyFloor(benchmark::State& state) {
  const auto aus = make_access_units(120);
  std::vector<uint8_t> buffer(rtp::kDefaultMaxPacketSize);
  size_t bytes = 0, i = 0;
  for (auto _ : state) {
    const auto& au = aus[i++ % aus.size()];
    for (size_t pos = 0; pos < au.size(); pos += 1188) {
      const size_t n = std::min<size_t>(1188, au.size() - pos);
      std::memcpy(buffer.data() + 12, au.data() + pos, n);
      benchmark::DoNotOptimize(buffer.data());
    }
    bytes += au.size();
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}
BENCHMARK(BM_CopyFloor);

void BM_PacketizeIntoSharedPackets(benchmark::State& state) {
  const auto aus = make_access_units(120);
  rtp::H264Packetizer packetizer({.payload_type = 102, .ssrc = 1});
  packetizer.set_parameter_sets(kSps, kPps);
  std::vector<uint8_t> scratch(rtp::kDefaultMaxPacketSize);
  std::vector<webrtc::RtpPacketPtr> out;
  rtp::PacketInfo info;
  size_t bytes = 0, i = 0;
  for (auto _ : state) {
    const auto& au = aus[i++ % aus.size()];
    out.clear();
    (void)packetizer.begin(au, 4, static_cast<uint32_t>(i * 3000));
    while (size_t n = packetizer.next(scratch, info)) {
      auto p = std::make_shared<webrtc::RtpPacket>();
      p->sequence = info.sequence;
      p->bytes.assign(scratch.begin(), scratch.begin() + static_cast<long>(n));
      out.push_back(std::move(p));
    }
    benchmark::DoNotOptimize(out.data());
    bytes += au.size();
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}
BENCHMARK(BM_PacketizeIntoSharedPackets);

}  // namespace
