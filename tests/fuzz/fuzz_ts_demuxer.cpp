// libFuzzer target for the SRT/TS ingest path: TsDemuxer (TS packets, PSI sections, PES
// reassembly, H.264/HEVC/AAC elementary streams, the HEVC record built from in-band
// parameter sets). Besides memory safety it checks the demuxer's promises: any split of
// the input gives the same events; every video packet is well-formed AVCC, every HEVC
// one has valid NAL headers and no AUD or base-layer parameter set; an HEVC track's
// record parses; and the TS muxer (SRT playback) takes every packet under its tracks.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "relay/protocol/h264/nal_unit.hpp"
#include "relay/protocol/hevc/hevc_decoder_config.hpp"
#include "relay/protocol/hevc/nal_unit.hpp"
#include "relay/protocol/mpegts/ts_demuxer.hpp"
#include "relay/protocol/mpegts/ts_muxer.hpp"

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

  namespace hevc = anchorcast::hevc;
  anchorcast::mpegts::TsMuxer muxer;
  std::vector<uint8_t> ts;
  for (const auto& e : a) {
    if (e.type == TsDemuxEvent::Type::tracks) {
      const auto& video = e.tracks.video;
      if (video && video->codec == anchorcast::Codec::hevc &&
          !hevc::parse_hevc_decoder_config(video->decoder_config).ok())
        __builtin_trap();
      if (!muxer.set_tracks(e.tracks).ok()) __builtin_trap();
      continue;
    }
    const auto& p = e.packet;
    if (p.codec == anchorcast::Codec::hevc) {
      bool in_band_config = false;
      anchorcast::Status walked = hevc::for_each_nal(p.bytes(), 4, [&](std::span<const uint8_t> nal) {
        auto header = hevc::parse_nal_header(nal);
        const auto t = header->type;
        in_band_config |= t == hevc::NalType::aud ||
                          (header->layer_id == 0 && (t == hevc::NalType::vps || t == hevc::NalType::sps ||
                                                     t == hevc::NalType::pps));
      });
      if (!walked.ok() || in_band_config) __builtin_trap();
    }
    ts.clear();
    if (!muxer.write_packet(p, ts).ok()) __builtin_trap();
  }
  return 0;
}
