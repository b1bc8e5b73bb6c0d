#include "relay/protocol/flv/audio_tag.hpp"

#include <string>

#include "relay/protocol/flv/message_storage.hpp"

namespace anchorcast::flv {

Result<AudioTagBody> parse_audio_tag_body(std::span<const uint8_t> b) {
  if (b.empty()) return make_error("FLV audio tag body is empty");
  AudioTagBody a;
  a.format = static_cast<SoundFormat>(b[0] >> 4);
  a.rate_index = (b[0] >> 2) & 0x03;
  a.sample_size_16bit = (b[0] & 0x02) != 0;
  a.stereo = (b[0] & 0x01) != 0;
  if (!a.is_aac()) {
    a.data = b.subspan(1);
    return a;
  }
  if (b.size() < kAacAudioPrefixSize)
    return make_error("FLV AAC audio tag body is " + std::to_string(b.size()) + " bytes, need at least 2");
  if (b[1] > 1) return make_error("FLV AACPacketType " + std::to_string(b[1]) + " is reserved");
  a.aac_packet_type = static_cast<AacPacketType>(b[1]);
  a.data = b.subspan(kAacAudioPrefixSize);
  return a;
}

std::array<uint8_t, kAacAudioPrefixSize> serialize_aac_audio_prefix(AacPacketType packet_type) {
  return {static_cast<uint8_t>((static_cast<uint8_t>(SoundFormat::aac) << 4) | 0x0F),
          static_cast<uint8_t>(packet_type)};
}

Result<std::array<uint8_t, kAacAudioPrefixSize>> audio_tag_prefix(const Packet& packet) {
  if (packet.kind != MediaKind::audio || packet.codec != Codec::aac) return make_error("FLV audio tags carry AAC only");
  return serialize_aac_audio_prefix(AacPacketType::raw);
}

Result<Packet> audio_packet_from_tag(const AudioTagBody& body, int64_t dts_ms) {
  if (!body.is_aac())
    return make_error("FLV SoundFormat " + std::to_string(static_cast<int>(body.format)) +
                      " is not supported (AAC only)");
  if (body.aac_packet_type != AacPacketType::raw) return make_error("FLV AAC tag is not a raw frame");
  Packet p;
  p.kind = MediaKind::audio;
  p.codec = Codec::aac;
  p.keyframe = true;
  p.time_base = kMillis;
  p.dts = p.pts = dts_ms;
  p.payload.assign(body.data.begin(), body.data.end());
  return p;
}

Result<Packet> audio_packet_from_tag(const AudioTagBody& body, int64_t dts_ms, std::vector<uint8_t>&& message) {
  AudioTagBody header = body;
  header.data = {};
  return keep_message(audio_packet_from_tag(header, dts_ms), body.data, std::move(message));
}

}  // namespace anchorcast::flv
