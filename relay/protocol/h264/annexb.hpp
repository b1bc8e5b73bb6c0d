// AVCC (length-prefixed, ISO 14496-15 §5.3.4.2) <-> Annex B (start codes, H.264 B.2).
// MPEG-TS carries H.264 as an Annex B byte stream (H.222.0 §2.14); FLV, MP4 and our
// Packets carry AVCC.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "anchorcast/core/result.hpp"
#include "relay/protocol/h264/avc_decoder_config.hpp"

namespace anchorcast::h264 {

inline constexpr std::array<uint8_t, 4> kStartCode{0, 0, 0, 1};
// Start code + access unit delimiter with primary_pic_type 7 (any slice type) and the
// RBSP stop bit (§7.3.2.4). H.222.0 §2.14.1 wants every AVC access unit in a TS to begin
// with one.
inline constexpr std::array<uint8_t, 6> kAccessUnitDelimiter{0, 0, 0, 1, 0x09, 0xF0};

struct AnnexBOptions {
  // Begin the access unit with kAccessUnitDelimiter (the input's own AUDs are dropped so
  // there is exactly one, first).
  bool insert_aud = false;
  // Annex B bytes (start codes included) put before the NAL units of an access unit
  // that has an IDR slice but no SPS of its own, so every IDR can start decoding — what
  // a player joining a live TS or HLS segment needs. Empty: insert nothing.
  std::span<const uint8_t> parameter_sets;
};

// The Annex B form of one AVCC access unit as a list of byte pieces, in order: pieces
// point into `avcc`, into `options.parameter_sets`, or at static start codes, so the
// caller can copy them once to wherever they go (the TS muxer writes them straight into
// TS packets). `pieces` is cleared first; its capacity is reused.
Status annexb_pieces(std::span<const uint8_t> avcc, int length_size, const AnnexBOptions& options,
                     std::vector<std::span<const uint8_t>>& pieces);

// The same, appended to `out` as bytes.
Status avcc_to_annexb(std::span<const uint8_t> avcc, int length_size, const AnnexBOptions& options,
                      std::vector<uint8_t>& out);

// Annex B -> AVCC with 4-byte lengths, appended to `out`. AUDs are kept; empty units
// and bytes before the first start code are dropped.
void annexb_to_avcc(std::span<const uint8_t> annexb, std::vector<uint8_t>& out);

// Every SPS then every PPS of `config`, each behind a 4-byte start code: the bytes for
// AnnexBOptions::parameter_sets.
std::vector<uint8_t> parameter_sets_annexb(const AvcDecoderConfig& config);

}  // namespace anchorcast::h264
