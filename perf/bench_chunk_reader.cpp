// RTMP chunk reader throughput on a realistic publisher stream: 4096-byte chunks (what
// OBS and ffmpeg announce), 30 fps H.264 at ~4 Mbit/s (a 120 KB keyframe every 2 s,
// 10-20 KB P-frames) interleaved with 44.1 kHz AAC (~370-byte frames, 43 per second)
// whose chunks land between a video message's chunks, as a muxer that interleaves by
// time sends them. Reported as bytes of chunk stream consumed per second.
#include <benchmark/benchmark.h>

#include <cstring>

#include <cstdint>
#include <vector>

#include "relay/protocol/rtmp/chunk_reader.hpp"
#include "relay/protocol/rtmp/chunk_writer.hpp"
#include "relay/protocol/rtmp/messages.hpp"

namespace {

using namespace anchorcast::rtmp;

constexpr uint32_t kChunkSize = 4096;

struct Stream {
  std::vector<uint8_t> bytes;
  size_t messages = 0;
  size_t payload_bytes = 0;
};

// Frames one message into separate chunks (first: fmt 0, then fmt 3), so the caller can
// interleave chunks of different chunk streams.
std::vector<std::vector<uint8_t>> chunks_of(uint32_t csid, uint8_t type, uint32_t ts, size_t length,
                                            uint32_t& rng) {
  std::vector<uint8_t> payload(length);
  for (auto& b : payload) b = static_cast<uint8_t>(rng = rng * 1664525u + 1013904223u);
  std::vector<uint8_t> framed;
  ChunkWriter(kChunkSize).append(ChunkHeaderFields{csid, type, 1, ts}, payload, framed);
  std::vector<std::vector<uint8_t>> out;
  size_t first = 12 + std::min<size_t>(length, kChunkSize);
  out.emplace_back(framed.begin(), framed.begin() + static_cast<std::ptrdiff_t>(first));
  for (size_t off = first; off < framed.size();) {
    size_t n = std::min<size_t>(1 + kChunkSize, framed.size() - off);
    out.emplace_back(framed.begin() + static_cast<std::ptrdiff_t>(off),
                     framed.begin() + static_cast<std::ptrdiff_t>(off + n));
    off += n;
  }
  return out;
}

Stream make_stream(int seconds) {
  Stream s;
  uint32_t rng = 12345;
  std::vector<uint8_t> head;
  ChunkWriter(128).append(make_set_chunk_size(kChunkSize), head);
  s.bytes = head;
  s.messages = 1;
  double audio_ms = 0;
  for (int frame = 0; frame < seconds * 30; ++frame) {
    uint32_t ts = static_cast<uint32_t>(frame * 1000 / 30);
    size_t vlen = frame % 60 == 0 ? 120'000 : 10'000 + (rng % 10'000);
    auto video = chunks_of(6, msg::kVideo, ts, vlen, rng);
    s.messages++;
    s.payload_bytes += vlen;
    // Audio frames due before the next video frame go between its chunks.
    std::vector<std::vector<uint8_t>> audio;
    while (audio_ms < (frame + 1) * 1000.0 / 30) {
      size_t alen = 340 + rng % 60;
      auto a = chunks_of(4, msg::kAudio, static_cast<uint32_t>(audio_ms), alen, rng);
      audio.insert(audio.end(), a.begin(), a.end());
      s.messages++;
      s.payload_bytes += alen;
      audio_ms += 1024 * 1000.0 / 44100;
    }
    size_t ai = 0;
    for (size_t i = 0; i < video.size(); ++i) {
      s.bytes.insert(s.bytes.end(), video[i].begin(), video[i].end());
      if (ai < audio.size() && i % 2 == 0) {
        s.bytes.insert(s.bytes.end(), audio[ai].begin(), audio[ai].end());
        ++ai;
      }
    }
    for (; ai < audio.size(); ++ai) s.bytes.insert(s.bytes.end(), audio[ai].begin(), audio[ai].end());
  }
  return s;
}

const Stream& stream() {
  static const Stream s = make_stream(10);
  return s;
}

// range(0): read size, as a socket hands it over (64 KiB: the session's read buffer;
// 1460: one TCP segment at a time, the worst case for header reassembly).
void BM_ChunkReaderRealistic(benchmark::State& state) {
  const Stream& s = stream();
  size_t read_size = static_cast<size_t>(state.range(0));
  std::vector<Message> out;
  out.reserve(1024);
  for (auto _ : state) {
    ChunkReader reader;
    size_t messages = 0;
    for (size_t off = 0; off < s.bytes.size(); off += read_size) {
      size_t n = std::min(read_size, s.bytes.size() - off);
      if (!reader.feed(std::span(s.bytes).subspan(off, n), out).ok()) state.SkipWithError("reader failed");
      messages += out.size();
      out.clear();  // a session hands messages on and reuses the vector
    }
    if (messages != s.messages) state.SkipWithError("wrong message count");
    benchmark::DoNotOptimize(messages);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * s.bytes.size()));
  state.counters["messages/s"] =
      benchmark::Counter(static_cast<double>(state.iterations() * s.messages), benchmark::Counter::kIsRate);
  state.counters["stream_MB"] = static_cast<double>(s.bytes.size()) / 1e6;
}
BENCHMARK(BM_ChunkReaderRealistic)->Arg(65536)->Arg(1460)->Unit(benchmark::kMillisecond);

// The floor in the same run: one memcpy of the same bytes in the same read sizes (the
// reader copies each payload once into its message). RESULTS.md reports reader/floor.
void BM_CopyFloor(benchmark::State& state) {
  const Stream& s = stream();
  size_t read_size = static_cast<size_t>(state.range(0));
  std::vector<uint8_t> sink(s.bytes.size());
  for (auto _ : state) {
    for (size_t off = 0; off < s.bytes.size(); off += read_size) {
      size_t n = std::min(read_size, s.bytes.size() - off);
      std::memcpy(sink.data() + off, s.bytes.data() + off, n);
    }
    benchmark::DoNotOptimize(sink.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * s.bytes.size()));
}
BENCHMARK(BM_CopyFloor)->Arg(65536)->Arg(1460)->Unit(benchmark::kMillisecond);

// The play side's framing: headers plus zero-copy pieces for the same messages.
void BM_ChunkWriterFrame(benchmark::State& state) {
  std::vector<std::vector<uint8_t>> payloads;
  uint32_t rng = 7;
  for (int frame = 0; frame < 300; ++frame) {
    payloads.emplace_back(frame % 60 == 0 ? 120'000 : 10'000 + (rng = rng * 1664525u + 1013904223u) % 10'000);
    payloads.emplace_back(370);
  }
  size_t total = 0;
  for (auto& p : payloads) total += p.size();
  ChunkWriter writer(kChunkSize);
  std::vector<uint8_t> headers;
  std::vector<ChunkPiece> pieces;
  for (auto _ : state) {
    headers.clear();
    pieces.clear();
    uint32_t ts = 0;
    for (auto& p : payloads) {
      std::span<const uint8_t> parts[1] = {p};
      writer.frame(ChunkHeaderFields{6, msg::kVideo, 1, ts += 16}, parts, headers, pieces);
    }
    benchmark::DoNotOptimize(pieces.data());
  }
  // Bytes framed per second would only measure that nothing is copied; count messages.
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * payloads.size()));
  state.counters["payload_MB"] = static_cast<double>(total) / 1e6;
}
BENCHMARK(BM_ChunkWriterFrame)->Unit(benchmark::kMicrosecond);

}  // namespace
