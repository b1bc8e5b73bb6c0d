// What a publisher sends: codecs and their decoder configuration. A new TrackSet is
// announced whenever a publisher (re)starts or changes codec configuration.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "anchorcast/media/packet.hpp"

namespace anchorcast {

struct VideoTrack {
  Codec codec = Codec::h264;
  int width = 0;
  int height = 0;
  double fps = 0;  // 0 when unknown
  // h264: AVCDecoderConfigurationRecord (ISO 14496-15 5.2.4.1), as in FLV/MP4.
  // hevc: HEVCDecoderConfigurationRecord (ISO 14496-15 8.3.3.1, the hvcC), as in
  // Enhanced RTMP/MP4, with lengthSizeMinusOne 3 like the packets' NAL lengths.
  std::vector<uint8_t> decoder_config;
  friend bool operator==(const VideoTrack&, const VideoTrack&) = default;
};

struct AudioTrack {
  Codec codec = Codec::aac;
  int sample_rate = 0;
  int channels = 0;
  // aac: AudioSpecificConfig (ISO 14496-3 1.6.2.1).
  std::vector<uint8_t> decoder_config;
  friend bool operator==(const AudioTrack&, const AudioTrack&) = default;
};

struct TrackSet {
  std::optional<VideoTrack> video;
  std::optional<AudioTrack> audio;
  friend bool operator==(const TrackSet&, const TrackSet&) = default;
};

using TrackSetPtr = std::shared_ptr<const TrackSet>;

}  // namespace anchorcast
