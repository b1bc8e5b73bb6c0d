// ID3v2 tags (id3.org, "ID3 tag version 2.4.0 - Main Structure" and "- Native Frames"),
// as HLS timed metadata carries them ("Timed Metadata for HTTP Live Streaming", Apple):
// the builder writes a v2.4 tag with one TXXX frame; the parser reads v2.3 and v2.4 tags
// (what hls.js and Safari read), bounded, for tests and anything that receives them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "anchorcast/core/result.hpp"

namespace anchorcast::id3 {

inline constexpr size_t kHeaderSize = 10;       // "ID3", version, flags, size
inline constexpr size_t kFrameHeaderSize = 10;  // id, size, flags
// Tags larger than this are neither built nor parsed: timed metadata is small, and a
// TS PES of it must fit its 16-bit length.
inline constexpr size_t kMaxTagSize = 1 << 20;

// A v2.4 tag with one TXXX frame (§4.2.6): UTF-8 (encoding 3), `description`, a NUL,
// `value`. Fails when the tag would exceed `max_tag_size` or `description` holds a NUL.
Result<std::vector<uint8_t>> build_txxx_tag(std::string_view description, std::string_view value,
                                            size_t max_tag_size = kMaxTagSize);

struct Frame {
  std::string id;                  // four characters, e.g. "TXXX", "PRIV"
  std::span<const uint8_t> body;   // into the parsed bytes
};

struct Tag {
  uint8_t major_version = 0;  // 3 or 4
  size_t size = 0;            // the whole tag, header (and footer) included
  std::vector<Frame> frames;
};

// The tag at the start of `bytes`. Fails on anything that is not a whole v2.3/v2.4 tag
// within `bytes`, on unsynchronised tags, and on frames that overrun the tag.
Result<Tag> parse_tag(std::span<const uint8_t> bytes, size_t max_tag_size = kMaxTagSize);

struct UserText {
  std::string description;
  std::string value;
};

// A TXXX frame body in ISO-8859-1 (0) or UTF-8 (3), the encodings without byte order
// marks; UTF-16 bodies fail.
Result<UserText> parse_txxx(std::span<const uint8_t> body);

}  // namespace anchorcast::id3
