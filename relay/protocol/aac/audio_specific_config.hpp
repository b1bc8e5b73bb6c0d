// AudioSpecificConfig (ISO/IEC 14496-3 §1.6.2.1): the AAC decoder configuration FLV/RTMP
// and MP4 carry as "sequence header", and what ADTS headers are built from.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "anchorcast/core/result.hpp"

namespace anchorcast::aac {

// Audio object types (§1.5.1.1, Table 1.1) the relay cares about.
inline constexpr uint8_t kAacMain = 1;
inline constexpr uint8_t kAacLc = 2;
inline constexpr uint8_t kAacSsr = 3;
inline constexpr uint8_t kAacLtp = 4;
inline constexpr uint8_t kSbr = 5;  // HE-AAC
inline constexpr uint8_t kPs = 29;  // HE-AAC v2

struct AudioSpecificConfig {
  // The core object type: with explicit HE-AAC signalling (object type 5 or 29 first,
  // §1.6.2.1) this is the underlying one (normally AAC LC) and `sbr`/`ps` are set.
  uint8_t object_type = kAacLc;
  uint8_t sampling_index = 0;  // 0..12 per Table 1.16, or 15 when the rate is explicit
  uint32_t sample_rate = 0;    // core sample rate in Hz
  uint8_t channel_config = 0;  // 0: channels given by a program_config_element
  bool sbr = false;
  bool ps = false;
  uint32_t extension_sample_rate = 0;  // SBR output rate when signalled, else 0

  // Channel count for channel_config 1..7 (7 is 7.1 = 8 channels), 0 when unknown.
  int channels() const;
  // The rate a decoder outputs: the SBR rate when SBR is signalled, else sample_rate.
  uint32_t output_sample_rate() const { return sbr && extension_sample_rate ? extension_sample_rate : sample_rate; }
};

// Sampling frequency index of Table 1.16 for a rate, or -1 when the rate has none.
int sampling_index_for_rate(uint32_t sample_rate);
// Rate of a sampling frequency index 0..12, or 0 for reserved/escape values.
uint32_t sample_rate_for_index(int index);

Result<AudioSpecificConfig> parse_audio_specific_config(std::span<const uint8_t> bytes);

// A plain config (no SBR/PS) for AAC Main/LC/SSR/LTP (object types 1..4): 2 bytes, or 5
// when the rate has no index and is written as an explicit 24-bit frequency.
Result<std::vector<uint8_t>> build_audio_specific_config(uint8_t object_type, uint32_t sample_rate,
                                                         uint8_t channel_config);

}  // namespace anchorcast::aac
