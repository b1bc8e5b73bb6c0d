// libFuzzer target: AVCDecoderConfigurationRecord, SPS (with its exp-Golomb reader), and
// the AVCC/Annex B splitters. Invariants: a parsed record re-serializes to something
// that parses to the same record; conversions never read out of bounds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "relay/protocol/h264/annexb.hpp"
#include "relay/protocol/h264/avc_decoder_config.hpp"
#include "relay/protocol/h264/sps.hpp"

using namespace anchorcast::h264;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> in(data, size);
  if (auto config = parse_avc_decoder_config(in); config.ok()) {
    auto bytes = serialize_avc_decoder_config(*config);
    if (!bytes.ok()) std::abort();
    auto again = parse_avc_decoder_config(*bytes);
    if (!again.ok() || again->sps != config->sps || again->pps != config->pps ||
        again->length_size != config->length_size)
      std::abort();
    for (const auto& sps : config->sps) (void)parse_sps(sps);
    (void)parameter_sets_annexb(*config);
  }
  // The input as an SPS NAL unit (forced type 7, so every byte after it is exercised).
  if (size > 0) {
    std::vector<uint8_t> sps(in.begin(), in.end());
    sps[0] = static_cast<uint8_t>((sps[0] & 0xE0) | 7);
    if (auto parsed = parse_sps(sps); parsed.ok()) {
      if (parsed->width <= 0 || parsed->height <= 0 || parsed->width > 16384 || parsed->height > 32768) std::abort();
      (void)parsed->profile_level_id();
    }
  }
  // The input as an access unit, both framings.
  std::vector<uint8_t> out;
  for (int length_size : {1, 2, 4}) {
    out.clear();
    (void)avcc_to_annexb(in, length_size, {.insert_aud = true, .parameter_sets = in.first(size / 2)}, out);
  }
  out.clear();
  annexb_to_avcc(in, out);
  return 0;
}
