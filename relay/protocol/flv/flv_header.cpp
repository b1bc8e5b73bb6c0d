#include "relay/protocol/flv/flv_header.hpp"

#include <string>

namespace anchorcast::flv {

Result<FileHeader> parse_file_header(std::span<const uint8_t> b) {
  if (b.size() < kFileHeaderSize)
    return make_error("FLV header needs 9 bytes, got " + std::to_string(b.size()));
  if (b[0] != 'F' || b[1] != 'L' || b[2] != 'V') return make_error("FLV signature \"FLV\" not found");
  FileHeader h;
  h.version = b[3];
  // TypeFlags: bit 2 audio, bit 0 video; the other bits are reserved (0) but ignored,
  // as every reader does.
  h.has_audio = (b[4] & 0x04) != 0;
  h.has_video = (b[4] & 0x01) != 0;
  h.data_offset = (uint32_t{b[5]} << 24) | (uint32_t{b[6]} << 16) | (uint32_t{b[7]} << 8) | b[8];
  if (h.data_offset < kFileHeaderSize)
    return make_error("FLV DataOffset " + std::to_string(h.data_offset) + " is shorter than the header");
  return h;
}

std::array<uint8_t, kFileHeaderWithTagSize0> serialize_file_header(const FileHeader& h) {
  std::array<uint8_t, kFileHeaderWithTagSize0> out{};
  out[0] = 'F';
  out[1] = 'L';
  out[2] = 'V';
  out[3] = h.version;
  out[4] = static_cast<uint8_t>((h.has_audio ? 0x04 : 0) | (h.has_video ? 0x01 : 0));
  out[5] = static_cast<uint8_t>(h.data_offset >> 24);
  out[6] = static_cast<uint8_t>(h.data_offset >> 16);
  out[7] = static_cast<uint8_t>(h.data_offset >> 8);
  out[8] = static_cast<uint8_t>(h.data_offset);
  // out[9..12]: PreviousTagSize0 = 0.
  return out;
}

}  // namespace anchorcast::flv
