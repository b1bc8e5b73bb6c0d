#include "relay/protocol/hevc/annexb.hpp"

#include "relay/protocol/h264/annexb.hpp"
#include "relay/protocol/hevc/nal_unit.hpp"

namespace anchorcast::hevc {
namespace {

// §7.3.1.2: forbidden_zero_bit 0, nal_unit_type 35, nuh_layer_id 0, then
// nuh_temporal_id_plus1; pic_type 2 (010b) and the stop bit: 0x50.
constexpr std::array<uint8_t, kAccessUnitDelimiterSize> aud(uint8_t temporal_id_plus1) {
  return {0, 0, 0, 1, 35 << 1, temporal_id_plus1, 0x50};
}
constexpr std::array<std::array<uint8_t, kAccessUnitDelimiterSize>, 7> kAccessUnitDelimiters = {
    aud(1), aud(2), aud(3), aud(4), aud(5), aud(6), aud(7)};

}  // namespace

std::span<const uint8_t, kAccessUnitDelimiterSize> access_unit_delimiter(uint8_t temporal_id) {
  // nuh_temporal_id_plus1 is 3 bits, so a TemporalId is 0..6 (parse_nal_header).
  return kAccessUnitDelimiters[temporal_id < kAccessUnitDelimiters.size() ? temporal_id : 0];
}

Status annexb_pieces(std::span<const uint8_t> au, int length_size, const AnnexBOptions& options,
                     std::vector<std::span<const uint8_t>>& pieces) {
  pieces.clear();
  // First pass: validate every length and header before emitting anything, and learn
  // whether this access unit needs parameter sets in front of it and its TemporalId.
  bool irap = false, has_vps = false, has_sps = false, has_pps = false;
  bool have_vcl = false;
  uint8_t temporal_id = 0;
  Status walked = for_each_nal(au, length_size, [&](std::span<const uint8_t> nal) {
    const NalType t = nal_type(nal[0]);
    irap |= is_irap(t);
    has_vps |= t == NalType::vps;
    has_sps |= t == NalType::sps;
    has_pps |= t == NalType::pps;
    if (is_vcl(t) && !have_vcl) {
      // §7.4.2.2: every VCL unit of an access unit has the same TemporalId.
      have_vcl = true;
      temporal_id = static_cast<uint8_t>((nal[1] & 0x07) - 1);
    }
  });
  if (!walked) return walked;

  if (options.insert_aud) pieces.emplace_back(access_unit_delimiter(temporal_id));
  // §7.4.2.4.4: parameter sets precede the first VCL unit and follow the AUD; right
  // after the AUD is where x265 puts them too.
  if (irap && !(has_vps && has_sps && has_pps) && !options.parameter_sets.empty())
    pieces.push_back(options.parameter_sets);
  // Validated above: the walk cannot fail now.
  return for_each_nal(au, length_size, [&](std::span<const uint8_t> nal) {
    if (options.insert_aud && nal_type(nal[0]) == NalType::aud) return;
    pieces.emplace_back(h264::kStartCode);
    pieces.push_back(nal);
  });
}

std::vector<uint8_t> parameter_sets_annexb(const HevcDecoderConfig& config) {
  std::vector<uint8_t> out;
  for (NalType type : {NalType::vps, NalType::sps, NalType::pps})
    for (const auto& array : config.arrays) {
      if (array.nal_type != static_cast<uint8_t>(type)) continue;
      for (const auto& nal : array.nal_units) {
        out.insert(out.end(), h264::kStartCode.begin(), h264::kStartCode.end());
        out.insert(out.end(), nal.begin(), nal.end());
      }
    }
  return out;
}

}  // namespace anchorcast::hevc
