#include "relay/protocol/aac/audio_specific_config.hpp"

#include <string>

// The MSB-first bit reader lives with its first user (the SPS parser); AAC is its second.
#include "relay/protocol/bits/bit_reader.hpp"

namespace anchorcast::aac {
namespace {

using bits::BitReader;

constexpr uint32_t kRates[13] = {96000, 88200, 64000, 48000, 44100, 32000, 24000,
                                 22050, 16000, 12000, 11025, 8000,  7350};

// §1.6.2.1 GetAudioObjectType(): 5 bits, 31 escapes to 32 + 6 more bits.
uint8_t read_object_type(BitReader& br) {
  uint32_t t = br.read_bits(5);
  if (t == 31) t = 32 + br.read_bits(6);
  return static_cast<uint8_t>(t);
}

// samplingFrequencyIndex, with 0xF meaning an explicit 24-bit samplingFrequency.
bool read_sampling(BitReader& br, uint8_t& index, uint32_t& rate) {
  index = static_cast<uint8_t>(br.read_bits(4));
  if (index == 0x0F) {
    rate = br.read_bits(24);
  } else {
    rate = sample_rate_for_index(index);
  }
  return rate != 0;
}

bool is_general_audio(uint8_t t) {
  // Object types whose config is a GASpecificConfig (§1.6.2.1 switch).
  return t == 1 || t == 2 || t == 3 || t == 4 || t == 6 || t == 7 || t == 17 || (t >= 19 && t <= 23);
}

// GASpecificConfig (§4.4.1, Table 4.1) for channel configs other than 0. Returns false
// when it cannot be walked (a PCE follows: channel config 0).
bool skip_ga_specific_config(BitReader& br, uint8_t object_type, uint8_t channel_config) {
  br.skip_bits(1);                      // frameLengthFlag
  if (br.read_flag()) br.skip_bits(14); // dependsOnCoreCoder -> coreCoderDelay
  bool extension_flag = br.read_flag();
  if (channel_config == 0) return false;  // program_config_element(): not walked
  if (object_type == 6 || object_type == 20) br.skip_bits(3);  // layerNr
  if (extension_flag) {
    if (object_type == 22) br.skip_bits(16);  // numOfSubFrame, layer_length
    if (object_type == 17 || object_type == 19 || object_type == 20 || object_type == 23)
      br.skip_bits(3);  // the three resilience flags
    br.skip_bits(1);    // extensionFlag3
  }
  return true;
}

}  // namespace

int AudioSpecificConfig::channels() const {
  if (channel_config >= 1 && channel_config <= 6) return channel_config;
  if (channel_config == 7) return 8;  // Table 1.19: 7.1
  return 0;
}

int sampling_index_for_rate(uint32_t sample_rate) {
  for (int i = 0; i < 13; ++i)
    if (kRates[i] == sample_rate) return i;
  return -1;
}

uint32_t sample_rate_for_index(int index) { return index >= 0 && index < 13 ? kRates[index] : 0; }

Result<AudioSpecificConfig> parse_audio_specific_config(std::span<const uint8_t> bytes) {
  if (bytes.size() < 2)
    return make_error("AudioSpecificConfig is " + std::to_string(bytes.size()) + " bytes, need at least 2");
  BitReader br(bytes);
  AudioSpecificConfig asc;
  asc.object_type = read_object_type(br);
  if (asc.object_type == 0) return make_error("AudioSpecificConfig audioObjectType is 0 (null object)");
  if (!read_sampling(br, asc.sampling_index, asc.sample_rate))
    return make_error("AudioSpecificConfig samplingFrequencyIndex " + std::to_string(asc.sampling_index) +
                      " is reserved");
  asc.channel_config = static_cast<uint8_t>(br.read_bits(4));
  if (asc.channel_config > 7)
    return make_error("AudioSpecificConfig channelConfiguration " + std::to_string(asc.channel_config) +
                      " is reserved");
  // Explicit hierarchical HE-AAC signalling: the extension rate, then the core type.
  if (asc.object_type == kSbr || asc.object_type == kPs) {
    asc.sbr = true;
    asc.ps = asc.object_type == kPs;
    uint8_t ext_index = 0;
    if (!read_sampling(br, ext_index, asc.extension_sample_rate))
      return make_error("AudioSpecificConfig extensionSamplingFrequencyIndex is reserved");
    asc.object_type = read_object_type(br);
  }
  if (br.failed()) return make_error("AudioSpecificConfig is truncated");

  // Backward-compatible (implicit-looking) SBR/PS signalling after the GA config: a
  // sync extension 0x2B7 (§1.6.5.2). FFmpeg's encoder writes one with sbrPresentFlag 0.
  if (is_general_audio(asc.object_type) && skip_ga_specific_config(br, asc.object_type, asc.channel_config) &&
      !br.failed() && !asc.sbr && br.bits_left() >= 16) {
    BitReader ext = br;
    if (ext.read_bits(11) == 0x2B7 && read_object_type(ext) == kSbr) {
      bool sbr_present = ext.read_flag();
      uint8_t ext_index = 0;
      uint32_t ext_rate = 0;
      if (sbr_present && read_sampling(ext, ext_index, ext_rate) && !ext.failed()) {
        asc.sbr = true;
        asc.extension_sample_rate = ext_rate;
        if (ext.bits_left() >= 12 && ext.read_bits(11) == 0x548) asc.ps = ext.read_flag() && !ext.failed();
      }
    }
  }
  return asc;
}

Result<std::vector<uint8_t>> build_audio_specific_config(uint8_t object_type, uint32_t sample_rate,
                                                         uint8_t channel_config) {
  if (object_type < kAacMain || object_type > kAacLtp)
    return make_error("can only build an AudioSpecificConfig for AAC object types 1..4, not " +
                      std::to_string(object_type));
  if (channel_config > 7) return make_error("channel configuration " + std::to_string(channel_config) + " is reserved");
  if (sample_rate == 0 || sample_rate > 0xFFFFFF)
    return make_error("sample rate " + std::to_string(sample_rate) + " Hz does not fit an AudioSpecificConfig");
  // Bits, MSB first: objectType(5) samplingFrequencyIndex(4) [samplingFrequency(24)]
  // channelConfiguration(4) GASpecificConfig(3 zero bits: 1024-sample frames, no core
  // coder, no extension).
  uint64_t bits = object_type;
  int nbits = 5;
  int index = sampling_index_for_rate(sample_rate);
  if (index >= 0) {
    bits = (bits << 4) | static_cast<uint64_t>(index);
    nbits += 4;
  } else {
    bits = (bits << 28) | (uint64_t{0xF} << 24) | sample_rate;
    nbits += 28;
  }
  bits = (bits << 4) | channel_config;
  bits = bits << 3;
  nbits += 7;
  const int nbytes = (nbits + 7) / 8;
  bits <<= nbytes * 8 - nbits;
  std::vector<uint8_t> out(static_cast<size_t>(nbytes));
  for (int i = 0; i < nbytes; ++i) out[static_cast<size_t>(i)] = static_cast<uint8_t>(bits >> (8 * (nbytes - 1 - i)));
  return out;
}

}  // namespace anchorcast::aac
