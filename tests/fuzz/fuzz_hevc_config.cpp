// libFuzzer target: HEVCDecoderConfigurationRecord, HEVC SPS (with profile_tier_level and
// the exp-Golomb reader), NAL header and the length-prefixed access unit walk.
// Invariants: a parsed record re-serializes to bytes that parse to an equal record; a
// parsed SPS has a picture size within the caps; nothing reads out of bounds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "relay/protocol/hevc/hevc_decoder_config.hpp"
#include "relay/protocol/hevc/nal_unit.hpp"
#include "relay/protocol/hevc/sps.hpp"

using namespace anchorcast::hevc;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> in(data, size);
  if (auto config = parse_hevc_decoder_config(in); config.ok()) {
    auto bytes = serialize_hevc_decoder_config(*config);
    if (!bytes.ok()) std::abort();
    auto again = parse_hevc_decoder_config(*bytes);
    if (!again.ok() || !(*again == *config)) std::abort();
    for (const auto& array : config->arrays)
      for (const auto& nal : array.nal_units)
        if (nal_type(nal[0]) == NalType::sps) (void)parse_sps(nal);
  }
  // The input as an SPS NAL unit (forced to type 33, layer 0, temporal id 0, so every
  // byte after the header is exercised).
  if (size >= 2) {
    std::vector<uint8_t> nal(in.begin(), in.end());
    nal[0] = 33 << 1;
    nal[1] = 0x01;
    if (auto sps = parse_sps(nal); sps.ok()) {
      if (sps->width <= 0 || sps->height <= 0 || sps->width > 16888 || sps->height > 16888) std::abort();
      if (static_cast<uint32_t>(sps->width) > sps->coded_width) std::abort();
      // The record built from it must parse and agree.
      const uint8_t vps[] = {0x40, 0x01, 0x0c};
      const uint8_t pps[] = {0x44, 0x01, 0xc1};
      if (auto record = build_hevc_decoder_config(vps, nal, pps); record.ok()) {
        auto parsed = parse_hevc_decoder_config(*record);
        if (!parsed.ok() || !(parsed->general == sps->profile_tier_level)) std::abort();
      }
    }
  }
  // The input as an access unit.
  for (int length_size : {1, 2, 4}) {
    size_t count = 0;
    (void)for_each_nal(in, length_size, [&](std::span<const uint8_t> nal) {
      if (!parse_nal_header(nal).ok()) std::abort();
      ++count;
    });
    (void)is_keyframe_access_unit(in, length_size);
  }
  return 0;
}
