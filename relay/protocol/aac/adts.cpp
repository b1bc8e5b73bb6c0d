#include "relay/protocol/aac/adts.hpp"

#include <string>

namespace anchorcast::aac {

AudioSpecificConfig AdtsHeader::to_audio_specific_config() const {
  AudioSpecificConfig asc;
  asc.object_type = object_type;
  asc.sampling_index = sampling_index;
  asc.sample_rate = sample_rate();
  asc.channel_config = channel_config;
  return asc;
}

Result<AdtsHeader> parse_adts_header(std::span<const uint8_t> b) {
  if (b.size() < kAdtsHeaderSize)
    return make_error("ADTS header needs 7 bytes, got " + std::to_string(b.size()));
  if (b[0] != 0xFF || (b[1] & 0xF0) != 0xF0) return make_error("ADTS syncword 0xFFF not found");
  if ((b[1] & 0x06) != 0) return make_error("ADTS layer is not 0");
  AdtsHeader h;
  h.has_crc = (b[1] & 0x01) == 0;
  h.object_type = static_cast<uint8_t>((b[2] >> 6) + 1);
  h.sampling_index = (b[2] >> 2) & 0x0F;
  if (h.sample_rate() == 0)
    return make_error("ADTS sampling_frequency_index " + std::to_string(h.sampling_index) + " is reserved");
  h.channel_config = static_cast<uint8_t>(((b[2] & 0x01) << 2) | (b[3] >> 6));
  h.frame_length = static_cast<uint16_t>(((b[3] & 0x03) << 11) | (b[4] << 3) | (b[5] >> 5));
  h.raw_data_blocks = static_cast<uint8_t>((b[6] & 0x03) + 1);
  if (h.frame_length < h.header_size())
    return make_error("ADTS aac_frame_length " + std::to_string(h.frame_length) + " is shorter than its header");
  if (h.has_crc && b.size() < 9) return make_error("ADTS header with CRC needs 9 bytes, got " + std::to_string(b.size()));
  return h;
}

Result<std::array<uint8_t, kAdtsHeaderSize>> build_adts_header(const AudioSpecificConfig& config,
                                                                size_t payload_size) {
  if (config.object_type < kAacMain || config.object_type > kAacLtp)
    return make_error("ADTS cannot carry AAC object type " + std::to_string(config.object_type) +
                      " (its profile field holds types 1..4)");
  if (config.sampling_index > 12)
    return make_error("ADTS cannot carry an explicit sample rate (" + std::to_string(config.sample_rate) + " Hz)");
  if (config.channel_config > 7)
    return make_error("ADTS channel configuration " + std::to_string(config.channel_config) + " is reserved");
  const size_t frame_length = payload_size + kAdtsHeaderSize;
  if (frame_length > kAdtsMaxFrameLength)
    return make_error("AAC frame of " + std::to_string(payload_size) + " bytes is too long for ADTS");
  const unsigned profile = config.object_type - 1u;
  const unsigned index = config.sampling_index;
  const unsigned channels = config.channel_config;
  std::array<uint8_t, kAdtsHeaderSize> h{};
  h[0] = 0xFF;
  h[1] = 0xF1;  // syncword, ID 0 (MPEG-4), layer 0, protection_absent 1
  h[2] = static_cast<uint8_t>((profile << 6) | (index << 2) | (channels >> 2));
  h[3] = static_cast<uint8_t>(((channels & 0x03) << 6) | (frame_length >> 11));
  h[4] = static_cast<uint8_t>(frame_length >> 3);
  // adts_buffer_fullness 0x7FF: variable bitrate; one raw data block.
  h[5] = static_cast<uint8_t>(((frame_length & 0x07) << 5) | 0x1F);
  h[6] = 0xFC;
  return h;
}

}  // namespace anchorcast::aac
