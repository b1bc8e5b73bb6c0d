// libFuzzer target: AudioSpecificConfig and ADTS headers. Invariants: a parsed ADTS
// header's config builds an ADTS header that parses back to the same fields; a parsed
// plain AAC config rebuilds to a config with the same rate and channels.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "relay/protocol/aac/adts.hpp"
#include "relay/protocol/aac/audio_specific_config.hpp"

using namespace anchorcast::aac;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> in(data, size);
  if (auto asc = parse_audio_specific_config(in); asc.ok()) {
    (void)asc->channels();
    if (asc->object_type >= kAacMain && asc->object_type <= kAacLtp && asc->sample_rate > 0) {
      auto built = build_audio_specific_config(asc->object_type, asc->sample_rate, asc->channel_config);
      if (!built.ok()) std::abort();
      auto back = parse_audio_specific_config(*built);
      if (!back.ok() || back->sample_rate != asc->sample_rate || back->channel_config != asc->channel_config)
        std::abort();
    }
    (void)build_adts_header(*asc, size);
  }
  if (auto adts = parse_adts_header(in); adts.ok()) {
    auto asc = adts->to_audio_specific_config();
    auto header = build_adts_header(asc, adts->frame_length >= 7 ? adts->frame_length - 7u : 0u);
    if (!header.ok()) std::abort();
    auto back = parse_adts_header(*header);
    if (!back.ok() || back->sampling_index != adts->sampling_index || back->channel_config != adts->channel_config ||
        back->object_type != adts->object_type)
      std::abort();
  }
  return 0;
}
