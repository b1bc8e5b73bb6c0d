#include "relay/protocol/fmp4/in_band_parameter_sets.hpp"

#include <algorithm>
#include <string>

#include "relay/protocol/h264/avc_decoder_config.hpp"
#include "relay/protocol/h264/nal_unit.hpp"
#include "relay/protocol/hevc/hevc_decoder_config.hpp"
#include "relay/protocol/hevc/nal_unit.hpp"

namespace anchorcast::fmp4 {
namespace {

using Nal = std::span<const uint8_t>;
using NalList = std::vector<std::vector<uint8_t>>;

bool holds(const NalList& list, Nal nal) {
  return std::any_of(list.begin(), list.end(), [&](const auto& have) { return std::ranges::equal(have, nal); });
}

// The first in-band unit, else the record's first, else nothing.
Nal pick(const std::vector<Nal>& in_band, const NalList* from_record) {
  if (!in_band.empty()) return in_band.front();
  if (from_record && !from_record->empty()) return from_record->front();
  return {};
}

Result<std::optional<std::vector<uint8_t>>> hevc_config(std::span<const uint8_t> record, Nal au) {
  std::vector<Nal> vps, sps, pps;
  auto walked = hevc::for_each_nal(au, 4, [&](Nal nal) {
    switch (hevc::nal_type(nal[0])) {
      case hevc::NalType::vps: vps.push_back(nal); break;
      case hevc::NalType::sps: sps.push_back(nal); break;
      case hevc::NalType::pps: pps.push_back(nal); break;
      default: break;
    }
  });
  if (!walked) return walked.error();
  if (vps.empty() && sps.empty() && pps.empty()) {
    if (record.empty()) return make_error("HEVC keyframe carries no VPS, SPS or PPS and the track has no hvcC");
    return std::optional<std::vector<uint8_t>>();
  }
  std::optional<hevc::HevcDecoderConfig> current;
  if (!record.empty()) {
    auto parsed = hevc::parse_hevc_decoder_config(record);
    if (parsed) current = std::move(*parsed);
  }
  auto array_of = [&](hevc::NalType type) -> const NalList* {
    if (!current) return nullptr;
    for (const auto& a : current->arrays)
      if (a.nal_type == static_cast<uint8_t>(type)) return &a.nal_units;
    return nullptr;
  };
  auto all_held = [&](const std::vector<Nal>& units, hevc::NalType type) {
    const NalList* list = array_of(type);
    return std::all_of(units.begin(), units.end(), [&](Nal n) { return list && holds(*list, n); });
  };
  if (all_held(vps, hevc::NalType::vps) && all_held(sps, hevc::NalType::sps) && all_held(pps, hevc::NalType::pps))
    return std::optional<std::vector<uint8_t>>();
  const Nal v = pick(vps, array_of(hevc::NalType::vps));
  const Nal s = pick(sps, array_of(hevc::NalType::sps));
  const Nal p = pick(pps, array_of(hevc::NalType::pps));
  if (v.empty() || s.empty() || p.empty())
    return make_error(std::string("HEVC keyframe has new parameter sets but no ") +
                      (v.empty() ? "VPS" : s.empty() ? "SPS" : "PPS") + ", in band or in the track's hvcC");
  auto built = hevc::build_hevc_decoder_config(v, s, p);
  if (!built) return make_error("HEVC keyframe's parameter sets: " + built.error().message);
  return std::optional<std::vector<uint8_t>>(std::move(*built));
}

Result<std::optional<std::vector<uint8_t>>> avc_config(std::span<const uint8_t> record, Nal au) {
  std::vector<Nal> sps, pps;
  auto walked = h264::for_each_avcc_nal(au, 4, [&](Nal nal) {
    const auto type = h264::nal_type(nal[0]);
    if (type == h264::NalType::sps) sps.push_back(nal);
    if (type == h264::NalType::pps) pps.push_back(nal);
  });
  if (!walked) return walked.error();
  if (sps.empty() && pps.empty()) {
    if (record.empty()) return make_error("H.264 keyframe carries no SPS or PPS and the track has no avcC");
    return std::optional<std::vector<uint8_t>>();
  }
  std::optional<h264::AvcDecoderConfig> current;
  if (!record.empty()) {
    auto parsed = h264::parse_avc_decoder_config(record);
    if (parsed) current = std::move(*parsed);
  }
  auto all_held = [&](const std::vector<Nal>& units, const NalList* list) {
    return std::all_of(units.begin(), units.end(), [&](Nal n) { return list && holds(*list, n); });
  };
  const NalList* record_sps = current ? &current->sps : nullptr;
  const NalList* record_pps = current ? &current->pps : nullptr;
  if (all_held(sps, record_sps) && all_held(pps, record_pps)) return std::optional<std::vector<uint8_t>>();
  const Nal s = pick(sps, record_sps);
  const Nal p = pick(pps, record_pps);
  if (s.empty() || p.empty())
    return make_error(std::string("H.264 keyframe has new parameter sets but no ") + (s.empty() ? "SPS" : "PPS") +
                      ", in band or in the track's avcC");
  auto built = h264::build_avc_decoder_config(s, p);
  if (!built) return make_error("H.264 keyframe's parameter sets: " + built.error().message);
  return std::optional<std::vector<uint8_t>>(std::move(*built));
}

}  // namespace

Result<std::optional<std::vector<uint8_t>>> decoder_config_for_keyframe(Codec codec, std::span<const uint8_t> record,
                                                                        std::span<const uint8_t> access_unit) {
  if (codec == Codec::hevc) return hevc_config(record, access_unit);
  if (codec == Codec::h264) return avc_config(record, access_unit);
  return make_error("only H.264 and HEVC keyframes carry parameter sets");
}

}  // namespace anchorcast::fmp4
