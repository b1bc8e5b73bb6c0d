#include "relay/protocol/hevc/nal_unit.hpp"

namespace anchorcast::hevc {

Result<NalHeader> parse_nal_header(std::span<const uint8_t> nal) {
  if (nal.size() < 2)
    return make_error("HEVC NAL unit is " + std::to_string(nal.size()) + " bytes, shorter than its 2-byte header");
  if (nal[0] & 0x80) return make_error("HEVC NAL unit has forbidden_zero_bit set");
  const uint8_t temporal_id_plus1 = nal[1] & 0x07;
  if (temporal_id_plus1 == 0) return make_error("HEVC NAL unit has nuh_temporal_id_plus1 0 (must be 1..7)");
  NalHeader header;
  header.type = nal_type(nal[0]);
  header.layer_id = static_cast<uint8_t>((nal[0] & 0x01) << 5 | nal[1] >> 3);
  header.temporal_id = static_cast<uint8_t>(temporal_id_plus1 - 1);
  return header;
}

Result<bool> is_keyframe_access_unit(std::span<const uint8_t> au, int length_size) {
  bool irap = false;
  Status walked = for_each_nal(au, length_size, [&](std::span<const uint8_t> nal) {
    irap |= is_irap(nal_type(nal[0]));
  });
  if (!walked) return walked.error();
  return irap;
}

}  // namespace anchorcast::hevc
