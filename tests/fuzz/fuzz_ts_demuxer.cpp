// libFuzzer target for the SRT/TS ingest path: TsDemuxer (TS packets, PSI sections, PES
// reassembly, H.264/HEVC/AAC elementary streams). Besides memory safety it checks the
// demuxer's promises: any split of the input gives the same events, and every video
// packet is well-formed AVCC.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "relay/protocol/h264/nal_unit.hpp"
#include "relay/protocol/mpegts/ts_demuxer.hpp"

using anchorcast::TsDemuxer;
using anchorcast::TsDemuxerLimits;
using anchorcast::TsDemuxEvent;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> input(data, size);
  // Small caps so the fuzzer reaches the limits quickly.
  TsDemuxerLimits limits;
  limits.max_video_pes_bytes = 64 * 1024;
  limits.max_audio_pes_bytes = 16 * 1024;
  limits.max_pending_packets = 64;

  TsDemuxer bulk(limits);
  std::vector<TsDemuxEvent> a;
  bulk.feed(input, a);
  bulk.finish(a);

  // Chunk sizes taken from the input itself, so the fuzzer explores splits too.
  TsDemuxer split(limits);
  std::vector<TsDemuxEvent> b;
  size_t pos = 0;
  size_t i = 0;
  while (pos < size) {
    size_t n = 1 + (data[i++ % size] % 200);
    if (n > size - pos) n = size - pos;
    split.feed(input.subspan(pos, n), b);
    pos += n;
  }
  split.finish(b);

  if (a.size() != b.size()) __builtin_trap();
  for (size_t k = 0; k < a.size(); ++k) {
    if (a[k].type != b[k].type || a[k].packet.payload != b[k].packet.payload || a[k].packet.dts != b[k].packet.dts ||
        !(a[k].tracks == b[k].tracks))
      __builtin_trap();
    const auto& p = a[k].packet;
    if (a[k].type == TsDemuxEvent::Type::packet && p.kind == anchorcast::MediaKind::video &&
        !anchorcast::h264::for_each_avcc_nal(p.bytes(), 4, [](std::span<const uint8_t>) {}).ok())
      __builtin_trap();
  }
  return 0;
}
