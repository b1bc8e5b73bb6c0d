// TS muxing throughput on a realistic 720p30 live stream: H.264 at ~3 Mbit/s (a 60 KB
// IDR every 2 s, ~11 KB P/B frames, AVCC with an SEI and one slice per frame) and AAC LC
// 128 kbit/s at 44.1 kHz (~370-byte frames, 43/s), muxed as the HLS packager does:
// PAT/PMT at each keyframe, every packet into one reused output buffer.
// Bytes processed = input payload bytes.
#include <benchmark/benchmark.h>

#include <memory>
#include <random>
#include <vector>

#include "relay/protocol/mpegts/ts_muxer.hpp"

namespace {

using namespace anchorcast;

// AVCDecoderConfigurationRecord of an x264 1280x720 High@3.1 stream (the unit tests'
// kAvcConfig720pHigh).
const std::vector<uint8_t> kAvcConfig = {
    0x01, 0x64, 0x00, 0x1f, 0xff, 0xe1, 0x00, 0x1a, 0x67, 0x64, 0x00, 0x1f, 0xac, 0xd9, 0x40, 0x50,
    0x05, 0xbb, 0x01, 0x10, 0x00, 0x00, 0x03, 0x00, 0x10, 0x00, 0x00, 0x03, 0x03, 0xc0, 0xf1, 0x83,
    0x19, 0x60, 0x01, 0x00, 0x06, 0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0, 0xfd, 0xf8, 0xf8, 0x00};

void append_nal(std::vector<uint8_t>& au, uint8_t header, size_t size, std::mt19937& rng) {
  au.push_back(static_cast<uint8_t>(size >> 24));
  au.push_back(static_cast<uint8_t>(size >> 16));
  au.push_back(static_cast<uint8_t>(size >> 8));
  au.push_back(static_cast<uint8_t>(size));
  au.push_back(header);
  for (size_t i = 1; i < size; ++i) au.push_back(static_cast<uint8_t>(rng()));
}

struct Stream {
  TrackSet tracks;
  std::vector<PacketPtr> packets;  // interleaved by dts
  size_t payload_bytes = 0;
};

Stream make_stream(int seconds) {
  Stream s;
  s.tracks.video = VideoTrack{Codec::h264, 1280, 720, 30, kAvcConfig};
  s.tracks.audio = AudioTrack{Codec::aac, 44100, 2, {0x12, 0x10}};
  std::mt19937 rng(42);
  std::normal_distribution<double> frame_size(11000, 2500);
  const int frames = seconds * 30;
  const int audio_frames = seconds * 44100 / 1024;
  int a = 0;
  for (int f = 0; f < frames; ++f) {
    const int64_t dts_ms = f * 1000 / 30;
    while (a < audio_frames && a * 1024 * 1000 / 44100 <= dts_ms) {
      Packet p;
      p.kind = MediaKind::audio;
      p.codec = Codec::aac;
      p.keyframe = true;
      p.dts = p.pts = int64_t{a} * 1024 * 1000 / 44100;
      p.payload.resize(360 + rng() % 24);
      s.payload_bytes += p.payload.size();
      s.packets.push_back(std::make_shared<const Packet>(std::move(p)));
      ++a;
    }
    Packet p;
    p.kind = MediaKind::video;
    p.codec = Codec::h264;
    p.keyframe = f % 60 == 0;
    p.dts = dts_ms;
    p.pts = dts_ms + 66;  // B-frame reordering delay
    append_nal(p.payload, 0x06, 40, rng);  // SEI
    const size_t slice = p.keyframe ? 60000 : static_cast<size_t>(std::max(1000.0, frame_size(rng)));
    append_nal(p.payload, p.keyframe ? 0x65 : 0x41, slice, rng);
    s.payload_bytes += p.payload.size();
    s.packets.push_back(std::make_shared<const Packet>(std::move(p)));
  }
  return s;
}

void BM_TsMuxer720p(benchmark::State& state) {
  static const Stream stream = make_stream(10);
  mpegts::TsMuxer muxer;
  if (!muxer.set_tracks(stream.tracks).ok()) state.SkipWithError("bad tracks");
  std::vector<uint8_t> out;
  out.reserve(stream.payload_bytes * 11 / 10);
  for (auto _ : state) {
    out.clear();
    for (const auto& p : stream.packets) {
      if (p->keyframe && p->kind == MediaKind::video) muxer.write_tables(out);
      if (!muxer.write_packet(*p, out).ok()) state.SkipWithError("mux failed");
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(stream.payload_bytes));
  state.counters["overhead_%"] = 100.0 * (static_cast<double>(out.size()) / stream.payload_bytes - 1.0);
  state.counters["media_s_per_s"] =
      benchmark::Counter(10.0 * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_TsMuxer720p)->Unit(benchmark::kMillisecond);

// The floor in the same run: appending every payload to the output once, which is all a
// muxer that wrote no TS/PES headers would do. RESULTS.md reports muxer/floor.
void BM_AppendFloor(benchmark::State& state) {
  static const Stream stream = make_stream(10);
  std::vector<uint8_t> out;
  out.reserve(stream.payload_bytes * 11 / 10);
  for (auto _ : state) {
    out.clear();
    for (const auto& p : stream.packets) out.insert(out.end(), p->payload.begin(), p->payload.end());
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(stream.payload_bytes));
}
BENCHMARK(BM_AppendFloor)->Unit(benchmark::kMillisecond);

}  // namespace
