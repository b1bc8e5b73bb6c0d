// A strict little ISO BMFF (ISO/IEC 14496-12) box walker for tests: every size must fit
// its parent, containers are walked into, and what was found comes back as a tree.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace anchorcast::fixtures {

struct Mp4Box {
  std::string type;
  size_t offset = 0;                 // of the box header, in the walked bytes
  size_t size = 0;                   // header included
  std::span<const uint8_t> payload;  // after the 8-byte header (a full box's version/flags included)
  std::vector<Mp4Box> children;      // containers and sample entries only
};

struct Mp4Walk {
  std::vector<std::string> errors;  // empty when every size fitted
  std::vector<Mp4Box> boxes;        // top level, in order
};

// Containers walked into: moov, trak, mdia, minf, dinf, stbl, mvex, moof, traf, and the
// entries of stsd and dref, and the avc1/hvc1/mp4a sample entries' boxes.
Mp4Walk walk_mp4(std::span<const uint8_t> bytes);

// The first box at a "/"-separated path of types ("moov/trak/mdia/mdhd"), or nullptr.
const Mp4Box* find_box(const std::vector<Mp4Box>& boxes, std::string_view path);
// Every box of one type among `boxes` (not nested).
std::vector<const Mp4Box*> boxes_of(const std::vector<Mp4Box>& boxes, std::string_view type);

// Big-endian reads from a payload, bounds checked with gtest failures (0 when outside).
uint32_t be32_at(std::span<const uint8_t> p, size_t at);
uint64_t be64_at(std::span<const uint8_t> p, size_t at);
uint16_t be16_at(std::span<const uint8_t> p, size_t at);

// A trun (§8.8.8) read back: the fields of each sample that its flags say are there.
struct TrunSample {
  uint32_t duration = 0;
  uint32_t size = 0;
  uint32_t flags = 0;
  int32_t composition_offset = 0;
};
struct Trun {
  uint8_t version = 0;
  uint32_t flags = 0;
  int32_t data_offset = 0;
  std::vector<TrunSample> samples;
};
Trun parse_trun(const Mp4Box& trun);

}  // namespace anchorcast::fixtures
