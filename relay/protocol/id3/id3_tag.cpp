#include "relay/protocol/id3/id3_tag.hpp"

#include <algorithm>

#include "relay/protocol/bits/byte_order.hpp"

namespace anchorcast::id3 {
namespace {

using bits::load_be32;

constexpr uint32_t kMaxSyncsafe = (uint32_t{1} << 28) - 1;
constexpr uint8_t kEncodingLatin1 = 0;
constexpr uint8_t kEncodingUtf8 = 3;
constexpr uint8_t kFlagUnsynchronisation = 0x80;
constexpr uint8_t kFlagExtendedHeader = 0x40;
constexpr uint8_t kFlagFooter = 0x10;

// §6.2: 28 bits spread over four bytes whose top bit is always 0.
void put_syncsafe(uint32_t v, uint8_t* p) {
  p[0] = static_cast<uint8_t>((v >> 21) & 0x7F);
  p[1] = static_cast<uint8_t>((v >> 14) & 0x7F);
  p[2] = static_cast<uint8_t>((v >> 7) & 0x7F);
  p[3] = static_cast<uint8_t>(v & 0x7F);
}

bool get_syncsafe(const uint8_t* p, uint32_t& v) {
  if ((p[0] | p[1] | p[2] | p[3]) & 0x80) return false;
  v = (uint32_t{p[0]} << 21) | (uint32_t{p[1]} << 14) | (uint32_t{p[2]} << 7) | p[3];
  return true;
}

bool is_frame_id_char(uint8_t c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

}  // namespace

Result<std::vector<uint8_t>> build_txxx_tag(std::string_view description, std::string_view value,
                                            size_t max_tag_size) {
  if (description.find('\0') != std::string_view::npos) return make_error("id3 TXXX: description contains a NUL");
  const size_t frame_body = 1 + description.size() + 1 + value.size();
  const size_t total = kHeaderSize + kFrameHeaderSize + frame_body;
  if (total > std::min<size_t>(max_tag_size, kMaxSyncsafe))
    return make_error("id3 TXXX: tag of " + std::to_string(total) + " bytes is over the limit of " +
                      std::to_string(std::min<size_t>(max_tag_size, kMaxSyncsafe)));
  std::vector<uint8_t> out(total);
  uint8_t* p = out.data();
  p[0] = 'I';
  p[1] = 'D';
  p[2] = '3';
  p[3] = 4;  // v2.4.0
  p[4] = 0;
  p[5] = 0;  // no unsynchronisation, extended header, footer
  put_syncsafe(static_cast<uint32_t>(total - kHeaderSize), p + 6);  // §3.1: excludes the header
  p += kHeaderSize;
  p[0] = 'T';
  p[1] = 'X';
  p[2] = 'X';
  p[3] = 'X';
  put_syncsafe(static_cast<uint32_t>(frame_body), p + 4);  // §4.1: v2.4 frame sizes are syncsafe
  p[8] = 0;
  p[9] = 0;
  p += kFrameHeaderSize;
  *p++ = kEncodingUtf8;
  p = std::copy(description.begin(), description.end(), p);
  *p++ = 0;
  std::copy(value.begin(), value.end(), p);
  return out;
}

Result<Tag> parse_tag(std::span<const uint8_t> bytes, size_t max_tag_size) {
  if (bytes.size() < kHeaderSize) return make_error("id3: shorter than a tag header");
  if (bytes[0] != 'I' || bytes[1] != 'D' || bytes[2] != '3') return make_error("id3: no \"ID3\" identifier");
  Tag tag;
  tag.major_version = bytes[3];
  if (tag.major_version != 3 && tag.major_version != 4)
    return make_error("id3: version 2." + std::to_string(tag.major_version) + " is not supported (2.3, 2.4 are)");
  const uint8_t flags = bytes[5];
  if (flags & kFlagUnsynchronisation) return make_error("id3: unsynchronised tags are not supported");
  uint32_t body_size = 0;
  if (!get_syncsafe(&bytes[6], body_size)) return make_error("id3: tag size is not syncsafe");
  const bool footer = tag.major_version == 4 && (flags & kFlagFooter);
  tag.size = kHeaderSize + body_size + (footer ? kHeaderSize : 0);
  if (tag.size > max_tag_size) return make_error("id3: tag of " + std::to_string(tag.size) + " bytes is over the limit");
  if (tag.size > bytes.size()) return make_error("id3: tag size runs past the data");
  size_t pos = kHeaderSize;
  const size_t end = kHeaderSize + body_size;
  if (flags & kFlagExtendedHeader) {
    if (end - pos < 4) return make_error("id3: extended header truncated");
    uint32_t ext = 0;
    if (tag.major_version == 4) {
      // v2.4 §3.2: syncsafe size of the whole extended header.
      if (!get_syncsafe(&bytes[pos], ext)) return make_error("id3: extended header size is not syncsafe");
    } else {
      ext = load_be32(&bytes[pos]) + 4;  // v2.3 §3.2: the size excludes its own 4 bytes
    }
    if (ext < 4 || ext > end - pos) return make_error("id3: extended header overruns the tag");
    pos += ext;
  }
  while (end - pos >= kFrameHeaderSize) {
    const uint8_t* h = &bytes[pos];
    if (h[0] == 0) break;  // §3.3: padding
    if (!is_frame_id_char(h[0]) || !is_frame_id_char(h[1]) || !is_frame_id_char(h[2]) || !is_frame_id_char(h[3]))
      return make_error("id3: bad frame id at offset " + std::to_string(pos));
    uint32_t size = 0;
    if (tag.major_version == 4) {
      if (!get_syncsafe(h + 4, size)) return make_error("id3: frame size is not syncsafe");
    } else {
      size = load_be32(h + 4);
    }
    pos += kFrameHeaderSize;
    if (size > end - pos) return make_error("id3: frame " + std::string(h, h + 4) + " overruns the tag");
    tag.frames.push_back({std::string(h, h + 4), bytes.subspan(pos, size)});
    pos += size;
  }
  return tag;
}

Result<UserText> parse_txxx(std::span<const uint8_t> body) {
  if (body.empty()) return make_error("id3 TXXX: empty frame");
  if (body[0] != kEncodingLatin1 && body[0] != kEncodingUtf8)
    return make_error("id3 TXXX: text encoding " + std::to_string(body[0]) + " is not supported (0 and 3 are)");
  auto text = body.subspan(1);
  auto nul = std::find(text.begin(), text.end(), uint8_t{0});
  if (nul == text.end()) return make_error("id3 TXXX: description without its NUL terminator");
  UserText out;
  out.description.assign(text.begin(), nul);
  auto value = std::span<const uint8_t>(nul + 1, text.end());
  // A value may end in a NUL terminator (optional in v2.4 §4.2); it is not part of it.
  if (!value.empty() && value.back() == 0) value = value.first(value.size() - 1);
  out.value.assign(value.begin(), value.end());
  return out;
}

}  // namespace anchorcast::id3
