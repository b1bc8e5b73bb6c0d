// libFuzzer target: the fMP4 muxer on what a publisher controls: a decoder configuration
// record (first byte picks H.264 or HEVC, the next two its length) and an access unit (the
// rest) go through decoder_config_for_keyframe, make_video_track, the init segment and a
// one-sample media segment.
// Invariants: a track made from a record has an avcC/hvcC that parses back with 4-byte
// NAL lengths; a sample that passes check_sample is written; a failed write appends
// nothing; nothing reads out of bounds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "relay/protocol/fmp4/in_band_parameter_sets.hpp"
#include "relay/protocol/fmp4/init_segment.hpp"
#include "relay/protocol/fmp4/media_segment.hpp"
#include "relay/protocol/fmp4/track_config.hpp"
#include "relay/protocol/h264/avc_decoder_config.hpp"
#include "relay/protocol/hevc/hevc_decoder_config.hpp"

using namespace anchorcast;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  const Codec codec = data[0] & 1 ? Codec::hevc : Codec::h264;
  const size_t record_size = std::min<size_t>(size - 3, size_t{data[1]} << 8 | data[2]);
  std::span<const uint8_t> record(data + 3, record_size);
  std::span<const uint8_t> au(data + 3 + record_size, size - 3 - record_size);

  VideoTrack track;
  track.codec = codec;
  track.decoder_config.assign(record.begin(), record.end());
  if (auto next = fmp4::decoder_config_for_keyframe(codec, record, au); next.ok() && *next)
    track.decoder_config = **next;
  auto config = fmp4::make_video_track(track);
  if (!config.ok()) return 0;
  if (codec == Codec::hevc) {
    auto parsed = hevc::parse_hevc_decoder_config(config->decoder_config);
    if (!parsed.ok() || parsed->length_size != 4) std::abort();
  } else {
    auto parsed = h264::parse_avc_decoder_config(config->decoder_config);
    if (!parsed.ok() || parsed->length_size != 4) std::abort();
  }
  std::vector<uint8_t> out;
  fmp4::write_init_segment(std::span<const fmp4::TrackConfig>(&*config, 1), out);

  Packet packet;
  packet.codec = codec;
  packet.keyframe = true;
  packet.time_base = k90kHz;
  packet.payload.assign(au.begin(), au.end());
  const bool valid = fmp4::check_sample(*config, packet).ok();
  auto shared = std::make_shared<const Packet>(std::move(packet));
  const std::vector<PacketPtr> packets{shared};
  const fmp4::TrackFragment fragment{&*config, packets, std::nullopt};
  out.clear();
  const bool written = fmp4::write_media_segment(1, std::span(&fragment, 1), {}, out).ok();
  if (written != valid || (!written && !out.empty())) std::abort();
  return 0;
}
