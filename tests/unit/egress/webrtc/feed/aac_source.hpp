// Real AAC for the feed tests: ffmpeg's encoder over a sine, as ADTS, split into raw
// frames and the AudioSpecificConfig the first ADTS header implies.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "relay/protocol/aac/adts.hpp"
#include "relay/protocol/aac/audio_specific_config.hpp"

namespace anchorcast::testing {

struct AacSource {
  std::vector<uint8_t> audio_specific_config;
  std::vector<std::vector<uint8_t>> frames;  // raw, 1024 samples each
  int sample_rate = 0;
};

inline AacSource make_aac(double seconds, int sample_rate = 44100, int channels = 2) {
  const std::string command = "ffmpeg -hide_banner -loglevel error -f lavfi -i sine=frequency=440:sample_rate=" +
                              std::to_string(sample_rate) + " -t " + std::to_string(seconds) + " -ac " +
                              std::to_string(channels) + " -c:a aac -b:a 128k -f adts -";
  AacSource out;
  std::vector<uint8_t> adts;
  if (FILE* pipe = popen(command.c_str(), "r")) {
    uint8_t buffer[4096];
    size_t n = 0;
    while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) adts.insert(adts.end(), buffer, buffer + n);
    pclose(pipe);
  }
  size_t pos = 0;
  while (pos < adts.size()) {
    auto header = aac::parse_adts_header(std::span(adts).subspan(pos));
    if (!header || header->frame_length > adts.size() - pos || header->frame_length <= header->header_size()) break;
    if (out.audio_specific_config.empty()) {
      auto config = header->to_audio_specific_config();
      auto bytes = aac::build_audio_specific_config(config.object_type, config.sample_rate, config.channel_config);
      if (bytes) out.audio_specific_config = *bytes;
      out.sample_rate = static_cast<int>(header->sample_rate());
    }
    out.frames.emplace_back(adts.begin() + static_cast<long>(pos + header->header_size()),
                            adts.begin() + static_cast<long>(pos + header->frame_length));
    pos += header->frame_length;
  }
  return out;
}

}  // namespace anchorcast::testing
