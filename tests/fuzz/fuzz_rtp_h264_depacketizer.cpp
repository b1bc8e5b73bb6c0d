// libFuzzer target: RTP header parsing and the H.264 depacketizer over a stream of
// packets cut from the input (2-byte length prefixes), then the packetizer over each
// access unit that came out. Invariants: bounded output; packetizing a depacketized
// access unit and depacketizing it again gives the same NAL units.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "relay/protocol/rtp/h264_depacketizer.hpp"
#include "relay/protocol/rtp/h264_packetizer.hpp"
#include "relay/protocol/rtp/rtp_header.hpp"

using namespace anchorcast::rtp;

namespace {

void round_trip(const AccessUnit& au) {
  H264Packetizer packetizer({.payload_type = 96, .ssrc = 1, .max_packet_size = 200});
  if (!packetizer.begin(au.avcc, 4, au.timestamp).ok()) std::abort();  // our own output is valid AVCC
  H264Depacketizer again;
  std::vector<uint8_t> buffer(200);
  PacketInfo info;
  std::optional<AccessUnit> out;
  size_t packets = 0;
  while (size_t n = packetizer.next(buffer, info)) {
    ++packets;
    auto v = parse_rtp(std::span(buffer).first(n));
    if (!v.ok()) std::abort();
    auto r = again.push(v->payload, v->header.sequence, v->header.timestamp, v->header.marker);
    if (!r.ok()) std::abort();
    if (*r) out = std::move(*r);
  }
  // A unit of only AUDs/filler sends nothing.
  if (packets > 0 && (!out || out->avcc.size() > au.avcc.size())) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> in(data, size);
  H264Depacketizer depacketizer;
  size_t pos = 0;
  while (size - pos >= 2) {
    const size_t length = size_t{in[pos]} << 8 | in[pos + 1];
    pos += 2;
    const size_t n = std::min(length, size - pos);
    auto view = parse_rtp(in.subspan(pos, n));
    pos += n;
    if (!view.ok()) continue;
    if (view->header_size + view->payload.size() + view->padding_size != n) std::abort();
    auto result = depacketizer.push(view->payload, view->header.sequence, view->header.timestamp, view->header.marker);
    if (!result.ok() || !*result) continue;
    if ((*result)->avcc.size() > H264Depacketizer::kMaxAccessUnitSize) std::abort();
    round_trip(**result);
  }
  return 0;
}
