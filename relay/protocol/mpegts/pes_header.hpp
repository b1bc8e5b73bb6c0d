// PES packet header (ITU-T H.222.0 §2.4.3.6/§2.4.3.7) with PTS and optional DTS, and the
// 33-bit 90 kHz timestamp encoding it uses.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace anchorcast::mpegts {

inline constexpr uint8_t kStreamIdVideo = 0xE0;  // video stream number 0
inline constexpr uint8_t kStreamIdAudio = 0xC0;  // audio stream number 0
inline constexpr size_t kMaxPesHeaderSize = 19;  // 9 fixed + PTS 5 + DTS 5

// A 90 kHz timestamp reduced into the 33-bit range the stream carries (it wraps every
// 26.5 hours; negative values wrap too, as they do on the wire).
inline uint64_t to_33_bits(int64_t ts_90khz) {
  constexpr int64_t kModulo = int64_t{1} << 33;
  return static_cast<uint64_t>(((ts_90khz % kModulo) + kModulo) % kModulo);
}

// Writes a PES header for `payload_size` bytes of elementary stream data; DTS is written
// only when it differs from PTS. `unbounded` writes PES_packet_length 0, which only video
// PES in a TS may use (§2.4.3.7); a bounded header whose length would not fit 16 bits is
// written unbounded too. Returns the header size.
size_t write_pes_header(uint8_t stream_id, int64_t pts_90khz, int64_t dts_90khz, size_t payload_size, bool unbounded,
                        std::span<uint8_t, kMaxPesHeaderSize> out);

}  // namespace anchorcast::mpegts
