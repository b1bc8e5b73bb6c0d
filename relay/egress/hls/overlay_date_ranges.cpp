#include "relay/egress/hls/overlay_date_ranges.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "relay/egress/hls/iso8601.hpp"

namespace anchorcast {
namespace {

using json = nlohmann::json;

// Closed ranges kept beyond the window trim: a stream whose segments stopped (publisher
// gone) still gets cues, and the list must stay bounded.
constexpr size_t kMaxClosedRanges = 256;

std::string base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(std::max(0, n)));
  return out;
}

// §4.2: a quoted-string cannot contain '"', CR or LF. An overlay id is the merchant's
// string, so those (and '%', to keep the mapping one-to-one, and other control bytes)
// are percent-encoded.
std::string quoted_string_safe(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F || c == '"' || c == '%') {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 0x0F];
    } else {
      out += c;
    }
  }
  return out;
}

bool is_large_inline_image(const json& overlay, size_t max_inline_image) {
  auto it = overlay.find("image");
  if (it == overlay.end() || !it->is_string()) return false;
  const auto& image = it->get_ref<const std::string&>();
  return image.size() > max_inline_image && image.starts_with("data:");
}

}  // namespace

std::string compact_cue_json(std::string_view cue_json, size_t max_inline_image) {
  json cue = json::parse(cue_json, nullptr, false);
  if (!cue.is_object() || !cue.contains("overlays") || !cue["overlays"].is_array()) return std::string(cue_json);
  bool changed = false;
  for (auto& overlay : cue["overlays"])
    if (overlay.is_object() && is_large_inline_image(overlay, max_inline_image)) {
      overlay.erase("image");
      changed = true;
    }
  return changed ? cue.dump() : std::string(cue_json);
}

Status OverlayDateRanges::apply_cue(std::string_view cue_json, uint64_t version, TimePoint at) {
  json cue = json::parse(cue_json, nullptr, false);
  if (!cue.is_object()) return make_error("cue: not a JSON object");
  auto list = cue.find("overlays");
  if (list == cue.end() || !list->is_array()) return make_error("cue.overlays: missing or not an array");
  struct Visible {
    std::string id;
    std::string object_json;
  };
  std::vector<Visible> visible;
  for (const auto& overlay : *list) {
    if (!overlay.is_object() || !overlay.contains("id") || !overlay["id"].is_string())
      return make_error("cue.overlays: an entry without a string id");
    json lean = overlay;
    if (is_large_inline_image(lean, 2048)) lean.erase("image");
    visible.push_back({overlay["id"].get<std::string>(), lean.dump()});
  }
  for (auto& range : ranges_) {
    if (!range.open) continue;
    const bool still_same = std::any_of(visible.begin(), visible.end(), [&](const Visible& v) {
      return v.id == range.id && v.object_json == range.object_json;
    });
    if (still_same) continue;
    range.open = false;
    range.end = std::max(at, range.start);  // §4.3.2.7: END-DATE must not precede START-DATE
  }
  for (auto& v : visible) {
    const bool already_open = std::any_of(ranges_.begin(), ranges_.end(), [&](const Range& r) {
      return r.open && r.id == v.id && r.object_json == v.object_json;
    });
    if (already_open) continue;
    Range range;
    range.id = v.id;
    range.range_id = quoted_string_safe(v.id) + "-v" + std::to_string(version);
    range.version = version;
    range.payload_base64 = base64(v.object_json);
    range.object_json = std::move(v.object_json);
    range.start = at;
    range.end = at;
    // The same overlay shown twice in one version (hide and show in one batch) would
    // repeat an ID with other dates: the newer stretch replaces the older one.
    std::erase_if(ranges_, [&](const Range& r) { return r.range_id == range.range_id; });
    ranges_.push_back(std::move(range));
  }
  size_t closed = static_cast<size_t>(std::count_if(ranges_.begin(), ranges_.end(), [](const Range& r) { return !r.open; }));
  for (auto it = ranges_.begin(); closed > kMaxClosedRanges && it != ranges_.end();) {
    if (it->open) {
      ++it;
    } else {
      it = ranges_.erase(it);
      --closed;
    }
  }
  return {};
}

void OverlayDateRanges::trim(TimePoint window_start) {
  std::erase_if(ranges_, [&](const Range& r) { return !r.open && r.end < window_start; });
}

std::string OverlayDateRanges::render() const {
  std::string out;
  for (const auto& r : ranges_) {
    out += "#EXT-X-DATERANGE:ID=\"";
    out += r.range_id;
    out += "\",CLASS=\"";
    out += kOverlayDateRangeClass;
    out += "\",START-DATE=\"";
    out += format_iso8601_ms(r.start);
    out += '"';
    if (!r.open) {
      out += ",END-DATE=\"";
      out += format_iso8601_ms(r.end);
      out += '"';
    }
    // §4.3.2.7: X- attributes are the client's; a decimal-integer is a valid value.
    out += ",X-VERSION=";
    out += std::to_string(r.version);
    out += ",X-PAYLOAD=\"";
    out += r.payload_base64;
    out += "\"\n";
  }
  return out;
}

}  // namespace anchorcast
