#include "relay/protocol/h264/annexb.hpp"

#include "relay/protocol/h264/nal_unit.hpp"

namespace anchorcast::h264 {

Status annexb_pieces(std::span<const uint8_t> avcc, int length_size, const AnnexBOptions& options,
                     std::vector<std::span<const uint8_t>>& pieces) {
  pieces.clear();
  // First pass: validate every length before emitting anything, and learn whether
  // this access unit needs parameter sets in front of it.
  bool has_idr = false;
  bool has_sps = false;
  Status walked = for_each_avcc_nal(avcc, length_size, [&](std::span<const uint8_t> nal) {
    NalType t = nal_type(nal[0]);
    has_idr |= t == NalType::idr;
    has_sps |= t == NalType::sps;
  });
  if (!walked) return walked;

  if (options.insert_aud) pieces.emplace_back(kAccessUnitDelimiter);
  // §7.4.1.2.3: SPS/PPS must precede the first VCL NAL unit of the IDR; right after the
  // AUD is where encoders (x264) put them too.
  if (has_idr && !has_sps && !options.parameter_sets.empty()) pieces.push_back(options.parameter_sets);
  return for_each_avcc_nal(avcc, length_size, [&](std::span<const uint8_t> nal) {
    if (options.insert_aud && nal_type(nal[0]) == NalType::aud) return;
    pieces.emplace_back(kStartCode);
    pieces.push_back(nal);
  });
}

Status avcc_to_annexb(std::span<const uint8_t> avcc, int length_size, const AnnexBOptions& options,
                      std::vector<uint8_t>& out) {
  std::vector<std::span<const uint8_t>> pieces;
  if (auto s = annexb_pieces(avcc, length_size, options, pieces); !s) return s;
  for (auto piece : pieces) out.insert(out.end(), piece.begin(), piece.end());
  return {};
}

void annexb_to_avcc(std::span<const uint8_t> annexb, std::vector<uint8_t>& out) {
  for_each_annexb_nal(annexb, [&](std::span<const uint8_t> nal) {
    const size_t n = nal.size();
    out.push_back(static_cast<uint8_t>(n >> 24));
    out.push_back(static_cast<uint8_t>(n >> 16));
    out.push_back(static_cast<uint8_t>(n >> 8));
    out.push_back(static_cast<uint8_t>(n));
    out.insert(out.end(), nal.begin(), nal.end());
  });
}

std::vector<uint8_t> parameter_sets_annexb(const AvcDecoderConfig& config) {
  std::vector<uint8_t> out;
  for (const auto* list : {&config.sps, &config.pps})
    for (const auto& nal : *list) {
      out.insert(out.end(), kStartCode.begin(), kStartCode.end());
      out.insert(out.end(), nal.begin(), nal.end());
    }
  return out;
}

}  // namespace anchorcast::h264
