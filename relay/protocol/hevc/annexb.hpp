// HEVC access units from hvcC framing (length-prefixed, ISO/IEC 14496-15 §8.3.3.1, what
// our Packets carry) to the Annex B byte stream (start codes, H.265 Annex B) that MPEG-TS
// carries (H.222.0 §2.17). The HEVC twin of h264/annexb.hpp; the other direction, Annex
// B in, is h264::for_each_annexb_nal, whose start codes are the same.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "anchorcast/core/result.hpp"
#include "relay/protocol/hevc/hevc_decoder_config.hpp"

namespace anchorcast::hevc {

// Start code + AUD_NUT (35) header + pic_type 2 (I, P and B slices may follow, Table
// 7-2) and the RBSP stop bit (§7.3.2.5), one per TemporalId: §7.4.2.2 wants an AUD's
// TemporalId to be its access unit's.
inline constexpr size_t kAccessUnitDelimiterSize = 7;
std::span<const uint8_t, kAccessUnitDelimiterSize> access_unit_delimiter(uint8_t temporal_id);

struct AnnexBOptions {
  // Begin the access unit with an AUD (the input's own AUDs are dropped so there is
  // exactly one, first). H.222.0 §2.17.1 asks for one in every HEVC access unit of a TS,
  // as §2.14.1 does for AVC.
  bool insert_aud = false;
  // Annex B bytes (start codes included) put right after the AUD of an access unit that
  // has an IRAP picture but not all of VPS, SPS and PPS of its own, so every IRAP can
  // start decoding: what a player joining a live TS needs. Empty: insert nothing.
  std::span<const uint8_t> parameter_sets;
};

// The Annex B form of one access unit whose NAL units sit behind `length_size`-byte
// lengths, as a list of byte pieces in order (into `au`, `options.parameter_sets`, or
// static start codes and AUDs), so the caller copies them once to where they go.
// `pieces` is cleared first; its capacity is reused. Fails, leaving `pieces` empty, when
// a length runs past the end or a unit has no valid HEVC NAL header.
Status annexb_pieces(std::span<const uint8_t> au, int length_size, const AnnexBOptions& options,
                     std::vector<std::span<const uint8_t>>& pieces);

// Every VPS, then every SPS, then every PPS of `config`, each behind a 4-byte start code:
// the bytes for AnnexBOptions::parameter_sets. SEI arrays are left out: declarative SEI
// is not needed to decode.
std::vector<uint8_t> parameter_sets_annexb(const HevcDecoderConfig& config);

}  // namespace anchorcast::hevc
