#include "mp4_boxes.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace anchorcast::fixtures {
namespace {

// Bytes between a box's header and its first child.
size_t child_offset(std::string_view type) {
  static const std::vector<std::string_view> plain = {"moov", "trak", "mdia", "minf", "dinf",
                                                      "stbl", "mvex", "moof", "traf"};
  if (std::find(plain.begin(), plain.end(), type) != plain.end()) return 0;
  if (type == "stsd" || type == "dref") return 8;  // version/flags + entry_count
  if (type == "avc1" || type == "hvc1" || type == "hev1") return 78;  // VisualSampleEntry fields
  if (type == "mp4a") return 28;                                      // AudioSampleEntry fields
  return std::string_view::npos;
}

void walk(std::span<const uint8_t> bytes, size_t base, std::vector<Mp4Box>& out, std::vector<std::string>& errors) {
  size_t pos = 0;
  while (pos < bytes.size()) {
    if (bytes.size() - pos < 8) {
      errors.push_back("box header cut off at " + std::to_string(base + pos));
      return;
    }
    const uint32_t size = uint32_t{bytes[pos]} << 24 | uint32_t{bytes[pos + 1]} << 16 |
                          uint32_t{bytes[pos + 2]} << 8 | bytes[pos + 3];
    Mp4Box box;
    box.type.assign(reinterpret_cast<const char*>(bytes.data() + pos + 4), 4);
    box.offset = base + pos;
    box.size = size;
    if (size < 8 || size > bytes.size() - pos) {
      errors.push_back(box.type + " at " + std::to_string(base + pos) + " has size " + std::to_string(size) +
                       " but " + std::to_string(bytes.size() - pos) + " bytes remain");
      return;
    }
    box.payload = bytes.subspan(pos + 8, size - 8);
    const size_t children = child_offset(box.type);
    if (children != std::string_view::npos) {
      if (children > box.payload.size())
        errors.push_back(box.type + " at " + std::to_string(base + pos) + " is too short for its fields");
      else
        walk(box.payload.subspan(children), base + pos + 8 + children, box.children, errors);
    }
    out.push_back(std::move(box));
    pos += size;
  }
}

}  // namespace

Mp4Walk walk_mp4(std::span<const uint8_t> bytes) {
  Mp4Walk w;
  walk(bytes, 0, w.boxes, w.errors);
  return w;
}

const Mp4Box* find_box(const std::vector<Mp4Box>& boxes, std::string_view path) {
  const auto slash = path.find('/');
  const auto head = path.substr(0, slash);
  for (const auto& b : boxes) {
    if (b.type != head) continue;
    if (slash == std::string_view::npos) return &b;
    return find_box(b.children, path.substr(slash + 1));
  }
  return nullptr;
}

std::vector<const Mp4Box*> boxes_of(const std::vector<Mp4Box>& boxes, std::string_view type) {
  std::vector<const Mp4Box*> out;
  for (const auto& b : boxes)
    if (b.type == type) out.push_back(&b);
  return out;
}

uint16_t be16_at(std::span<const uint8_t> p, size_t at) {
  EXPECT_LE(at + 2, p.size()) << "read past a payload";
  if (at + 2 > p.size()) return 0;
  return static_cast<uint16_t>(p[at] << 8 | p[at + 1]);
}

uint32_t be32_at(std::span<const uint8_t> p, size_t at) {
  EXPECT_LE(at + 4, p.size()) << "read past a payload";
  if (at + 4 > p.size()) return 0;
  return uint32_t{p[at]} << 24 | uint32_t{p[at + 1]} << 16 | uint32_t{p[at + 2]} << 8 | p[at + 3];
}

uint64_t be64_at(std::span<const uint8_t> p, size_t at) { return uint64_t{be32_at(p, at)} << 32 | be32_at(p, at + 4); }

Trun parse_trun(const Mp4Box& box) {
  Trun t;
  const auto p = box.payload;
  const uint32_t version_flags = be32_at(p, 0);
  t.version = static_cast<uint8_t>(version_flags >> 24);
  t.flags = version_flags & 0xFFFFFF;
  const uint32_t count = be32_at(p, 4);
  size_t at = 8;
  if (t.flags & 0x1) {
    t.data_offset = static_cast<int32_t>(be32_at(p, at));
    at += 4;
  }
  if (t.flags & 0x4) at += 4;  // first_sample_flags
  for (uint32_t i = 0; i < count && at < p.size(); ++i) {
    TrunSample s;
    auto next = [&] {
      const uint32_t v = be32_at(p, at);
      at += 4;
      return v;
    };
    if (t.flags & 0x100) s.duration = next();
    if (t.flags & 0x200) s.size = next();
    if (t.flags & 0x400) s.flags = next();
    if (t.flags & 0x800) s.composition_offset = static_cast<int32_t>(next());
    t.samples.push_back(s);
  }
  EXPECT_EQ(t.samples.size(), count) << "trun cut off";
  EXPECT_EQ(at, p.size()) << "trun has bytes past its samples";
  return t;
}

}  // namespace anchorcast::fixtures
