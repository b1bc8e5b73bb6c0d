// The FLV file header (Adobe FLV spec v10.1, Annex E.2) and the PreviousTagSize0 that
// follows it: the first 13 bytes of every FLV file or HTTP-FLV response.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "anchorcast/core/result.hpp"

namespace anchorcast::flv {

inline constexpr size_t kFileHeaderSize = 9;
// Header plus the 4-byte PreviousTagSize0 (always 0): where the first tag starts.
inline constexpr size_t kFileHeaderWithTagSize0 = kFileHeaderSize + 4;

struct FileHeader {
  uint8_t version = 1;
  bool has_audio = false;
  bool has_video = false;
  uint32_t data_offset = kFileHeaderSize;  // DataOffset: header size, 9 in version 1
};

Result<FileHeader> parse_file_header(std::span<const uint8_t> bytes);
std::array<uint8_t, kFileHeaderWithTagSize0> serialize_file_header(const FileHeader& header);

}  // namespace anchorcast::flv
