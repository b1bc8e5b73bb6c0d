// The body of an FLV audio tag / RTMP audio message (Adobe FLV spec v10.1, E.4.2.1
// AUDIODATA + AACAUDIODATA): a 1-byte format/rate/size/type header and, for AAC, the
// AACPacketType. Egress writes the 2-byte AAC prefix and the shared payload after it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>
#include <span>

#include "anchorcast/core/result.hpp"
#include "anchorcast/media/packet.hpp"

namespace anchorcast::flv {

// SoundFormat values of E.4.2.1; unknown values pass through parse as they are.
enum class SoundFormat : uint8_t {
  pcm_platform = 0, adpcm = 1, mp3 = 2, pcm_le = 3, nellymoser_16k = 4, nellymoser_8k = 5,
  nellymoser = 6, g711_alaw = 7, g711_mulaw = 8, aac = 10, speex = 11, mp3_8k = 14, device_specific = 15,
};
enum class AacPacketType : uint8_t { sequence_header = 0, raw = 1 };

inline constexpr size_t kAacAudioPrefixSize = 2;

struct AudioTagBody {
  SoundFormat format = SoundFormat::aac;
  uint8_t rate_index = 3;         // SoundRate: 0 5.5 kHz, 1 11 kHz, 2 22 kHz, 3 44 kHz
  bool sample_size_16bit = true;  // SoundSize
  bool stereo = true;             // SoundType
  // AAC only; for other formats raw and unused.
  AacPacketType aac_packet_type = AacPacketType::raw;
  // For AAC an AudioSpecificConfig (sequence_header) or one raw AAC frame (raw); points
  // into the parsed input.
  std::span<const uint8_t> data;

  bool is_aac() const { return format == SoundFormat::aac; }
};

Result<AudioTagBody> parse_audio_tag_body(std::span<const uint8_t> body);

// E.4.2.1: for AAC, SoundRate 3 (44 kHz), 16-bit, stereo whatever the real stream is —
// the decoder takes the real values from the AudioSpecificConfig. So the byte is 0xAF.
std::array<uint8_t, kAacAudioPrefixSize> serialize_aac_audio_prefix(AacPacketType packet_type);

// The prefix for an AAC Packet; fails for any other codec.
Result<std::array<uint8_t, kAacAudioPrefixSize>> audio_tag_prefix(const Packet& packet);

// A Packet from an AAC raw body (ingest): dts = pts = the tag/message time in ms; the
// payload is copied out of the message. Fails for other formats and sequence headers.
Result<Packet> audio_packet_from_tag(const AudioTagBody& body, int64_t dts_ms);
// The same without the copy: `message` holds the tag body `body` was parsed from, and
// the packet takes it over (its frame at payload_offset, after the tag header).
Result<Packet> audio_packet_from_tag(const AudioTagBody& body, int64_t dts_ms, std::vector<uint8_t>&& message);

}  // namespace anchorcast::flv
