#include "overlay/control/command.hpp"

#include <nlohmann/json.hpp>

namespace anchorcast::control {

namespace {

using nlohmann::json;

CommandError invalid(const std::string& path, const std::string& what) {
  return CommandError{ErrorCode::invalid, path + ": " + what};
}

// nlohmann's parser keeps its own stack, but the values it builds nest as deep as the
// input: refuse deep input before building anything.
bool nesting_within(std::string_view text, size_t max_depth) {
  size_t depth = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '{' || c == '[') {
      if (++depth > max_depth) return false;
    } else if ((c == '}' || c == ']') && depth > 0) --depth;
  }
  return true;
}

// Field readers: each returns an error naming `path.name`, or leaves `out` untouched when
// an optional field is absent (null counts as absent).
struct Fields {
  const json& obj;
  std::string path;  // "card", "sale" or "" for top-level fields

  std::string name_of(const char* name) const { return path.empty() ? name : path + "." + name; }

  const json* find(const char* name) const {
    auto it = obj.find(name);
    if (it == obj.end() || it->is_null()) return nullptr;
    return &*it;
  }

  std::optional<CommandError> text(const char* name, size_t max_chars, bool required, std::string& out,
                                   bool allow_empty = false) const {
    const json* v = find(name);
    if (!v) return required ? std::optional(invalid(name_of(name), "missing")) : std::nullopt;
    if (!v->is_string()) return invalid(name_of(name), "must be a string");
    const auto& s = v->get_ref<const std::string&>();
    if (!allow_empty && s.empty()) return invalid(name_of(name), "must not be empty");
    if (utf8_length(s) > max_chars)
      return invalid(name_of(name), "longer than " + std::to_string(max_chars) + " characters");
    for (unsigned char c : s)
      if (c < 0x20) return invalid(name_of(name), "must not contain control characters");
    out = s;
    return std::nullopt;
  }

  std::optional<CommandError> identifier(const char* name, std::string& out) const {
    const json* v = find(name);
    if (!v) return invalid(name_of(name), "missing");
    if (!v->is_string()) return invalid(name_of(name), "must be a string");
    const auto& s = v->get_ref<const std::string&>();
    bool ok = !s.empty() && s.size() <= kMaxIdBytes;
    for (char c : s)
      ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                  c == '-' || c == '.' || c == ':');
    if (!ok) return invalid(name_of(name), "must match [A-Za-z0-9_.:-]{1,64}");
    out = s;
    return std::nullopt;
  }

  std::optional<CommandError> integer(const char* name, int64_t lo, int64_t hi, bool required,
                                      std::optional<int64_t>& out) const {
    const json* v = find(name);
    std::string rule = lo == 0 && hi >= kMaxStock ? "must be an integer >= 0"
                                                   : "must be an integer between " + std::to_string(lo) + " and " +
                                                         std::to_string(hi);
    if (!v) return required ? std::optional(invalid(name_of(name), "missing")) : std::nullopt;
    if (v->is_number_unsigned()) {
      auto u = v->get<uint64_t>();
      if (u > static_cast<uint64_t>(hi)) return invalid(name_of(name), rule + " (out of range)");
      out = static_cast<int64_t>(u);
      return std::nullopt;
    }
    if (!v->is_number_integer()) {
      if (v->is_number_float()) return invalid(name_of(name), rule + " (got a fraction or an out-of-range number)");
      return invalid(name_of(name), rule);
    }
    auto i = v->get<int64_t>();
    if (i < lo || i > hi) return invalid(name_of(name), rule + " (out of range)");
    out = i;
    return std::nullopt;
  }
};

std::optional<CommandError> read_image(const Fields& f, Command& cmd) {
  const json* v = f.find("image");
  if (!v) return std::nullopt;
  std::string path = f.name_of("image");
  if (!v->is_string()) return invalid(path, "must be a data: URI or an asset id");
  const auto& s = v->get_ref<const std::string&>();
  if (s.rfind("data:", 0) == 0) {
    auto decoded = decode_data_uri(s);
    if (!decoded) return invalid(path, decoded.error().message);
    cmd.overlay.image = asset_id_for(decoded->bytes);
    cmd.image = std::make_shared<const DecodedImage>(std::move(*decoded));
    return std::nullopt;
  }
  // An asset uploaded through POST /api/v1/assets; its existence is checked on apply.
  bool ok = s.size() > 4 && s.size() <= kMaxIdBytes && s.rfind("img-", 0) == 0;
  for (size_t i = 4; ok && i < s.size(); ++i) ok = (s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f');
  if (!ok) return invalid(path, "must be a data: URI (PNG, JPEG or WebP) or an asset id \"img-…\"");
  cmd.overlay.image = s;
  return std::nullopt;
}

std::optional<CommandError> read_overlay(const json& body, const std::string& path, OverlayKind kind, Command& cmd) {
  if (!body.is_object()) return invalid(path, body.is_null() ? "missing" : "must be an object");
  Fields f{body, path};
  Overlay& o = cmd.overlay;
  o.kind = kind;
  if (auto e = f.identifier("id", o.id)) return e;
  if (auto e = f.text("title", kMaxTitleChars, true, o.title)) return e;
  if (auto e = f.text("price", kMaxPriceChars, true, o.price)) return e;
  if (auto e = f.text("original_price", kMaxPriceChars, false, o.original_price)) return e;
  if (auto e = f.text("badge", kMaxBadgeChars, false, o.badge)) return e;
  if (auto e = f.text("url", kMaxUrlBytes, false, o.url)) return e;
  if (!o.url.empty() && o.url.rfind("https://", 0) != 0 && o.url.rfind("http://", 0) != 0)
    return invalid(f.name_of("url"), "must start with https:// or http://");
  std::string locale = "zh";
  if (auto e = f.text("locale", 8, false, locale)) return e;
  if (locale != "zh" && locale != "en") return invalid(f.name_of("locale"), "must be \"zh\" or \"en\"");
  o.locale = locale;
  std::string position = kind == OverlayKind::card ? "bottom-left" : "top-right";
  if (auto e = f.text("position", 16, false, position)) return e;
  if (position == "top-left") o.position = Position::top_left;
  else if (position == "top-right") o.position = Position::top_right;
  else if (position == "bottom-left") o.position = Position::bottom_left;
  else if (position == "bottom-right") o.position = Position::bottom_right;
  else return invalid(f.name_of("position"), "must be top-left, top-right, bottom-left or bottom-right");
  std::optional<int64_t> duration, ends_at, stock;
  if (auto e = f.integer("duration_ms", 0, kMaxDurationMs, false, duration)) return e;
  if (kind == OverlayKind::sale) {
    if (auto e = f.integer("stock", 0, kMaxStock, true, stock)) return e;
    if (auto e = f.integer("ends_at_ms", 1, kMaxUnixMs, false, ends_at)) return e;
    if (duration && ends_at) return invalid(path, "give duration_ms or ends_at_ms, not both");
    if (!duration && !ends_at) return invalid(f.name_of("duration_ms"), "missing (or give ends_at_ms)");
    if (duration && *duration == 0) return invalid(f.name_of("duration_ms"), "must be > 0 for a sale");
    o.stock = *stock;
    o.ends_at_ms = ends_at;
  }
  o.duration_ms = duration.value_or(0);
  return read_image(f, cmd);
}

}  // namespace

const char* error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::bad_json: return "bad_json";
    case ErrorCode::unknown_type: return "unknown_type";
    case ErrorCode::invalid: return "invalid";
    case ErrorCode::not_found: return "not_found";
    case ErrorCode::rate_limited: return "rate_limited";
  }
  return "invalid";
}

const char* position_name(Position p) {
  switch (p) {
    case Position::top_left: return "top-left";
    case Position::top_right: return "top-right";
    case Position::bottom_left: return "bottom-left";
    case Position::bottom_right: return "bottom-right";
  }
  return "bottom-left";
}

const char* command_type_name(CommandType t) {
  switch (t) {
    case CommandType::card_show: return "card.show";
    case CommandType::card_hide: return "card.hide";
    case CommandType::sale_start: return "sale.start";
    case CommandType::sale_update: return "sale.update";
    case CommandType::sale_end: return "sale.end";
    case CommandType::overlay_clear: return "overlay.clear";
    case CommandType::schedule_cancel: return "schedule.cancel";
  }
  return "";
}

bool is_valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t n;
    uint32_t cp;
    if (c < 0x80) { ++i; continue; }
    if ((c & 0xE0) == 0xC0) n = 1, cp = c & 0x1F;
    else if ((c & 0xF0) == 0xE0) n = 2, cp = c & 0x0F;
    else if ((c & 0xF8) == 0xF0) n = 3, cp = c & 0x07;
    else return false;
    for (size_t k = 1; k <= n; ++k) {
      if (i + k >= s.size()) return false;
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms, surrogates and code points past U+10FFFF are not UTF-8 (RFC 3629).
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i += n + 1;
  }
  return true;
}

size_t utf8_length(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

ParseOutcome parse_command(std::string_view text) {
  ParseOutcome out{std::nullopt, CommandError{ErrorCode::bad_json, ""}};
  auto fail = [&](ErrorCode code, std::string message) {
    out.result = CommandError{code, std::move(message)};
    return out;
  };
  if (!is_valid_utf8(text)) return fail(ErrorCode::bad_json, "the message is not valid UTF-8");
  if (!nesting_within(text, kMaxJsonDepth))
    return fail(ErrorCode::bad_json, "JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  json root = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) return fail(ErrorCode::bad_json, "the message is not valid JSON");
  if (!root.is_object()) return fail(ErrorCode::bad_json, "the message must be a JSON object");

  Command cmd;
  Fields top{root, ""};
  if (const json* req = top.find("req")) {
    if (req->is_string() && req->get_ref<const std::string&>().size() <= kMaxReqBytes)
      out.req = req->get<std::string>();
    else return fail(ErrorCode::invalid, "req: must be a string of at most 128 bytes");
  } else {
    return fail(ErrorCode::invalid, "req: missing");
  }
  cmd.req = *out.req;
  const json* type = top.find("type");
  if (!type) return fail(ErrorCode::invalid, "type: missing");
  if (!type->is_string()) return fail(ErrorCode::invalid, "type: must be a string");
  const auto& t = type->get_ref<const std::string&>();
  if (auto e = top.integer("at_ms", 1, kMaxUnixMs, false, cmd.at_ms)) return fail(e->code, e->message);

  std::optional<CommandError> err;
  auto body = [&](const char* name) -> const json& {
    static const json null_value;
    auto it = root.find(name);
    return it == root.end() ? null_value : *it;
  };
  if (t == "card.show") {
    cmd.type = CommandType::card_show;
    err = read_overlay(body("card"), "card", OverlayKind::card, cmd);
  } else if (t == "sale.start") {
    cmd.type = CommandType::sale_start;
    err = read_overlay(body("sale"), "sale", OverlayKind::sale, cmd);
  } else if (t == "card.hide" || t == "sale.end" || t == "schedule.cancel") {
    cmd.type = t == "card.hide" ? CommandType::card_hide
               : t == "sale.end" ? CommandType::sale_end
                                 : CommandType::schedule_cancel;
    err = top.identifier("id", cmd.id);
  } else if (t == "sale.update") {
    cmd.type = CommandType::sale_update;
    err = top.identifier("id", cmd.id);
    if (!err) err = top.integer("stock", 0, kMaxStock, false, cmd.stock);
    if (!err) err = top.integer("ends_at_ms", 1, kMaxUnixMs, false, cmd.update_ends_at_ms);
    std::string price;
    if (!err) err = top.text("price", kMaxPriceChars, false, price);
    if (!err && !price.empty()) cmd.price = price;
    if (!err && !cmd.stock && !cmd.price && !cmd.update_ends_at_ms)
      err = invalid("stock", "missing (sale.update needs stock, price or ends_at_ms)");
  } else if (t == "overlay.clear") {
    cmd.type = CommandType::overlay_clear;
  } else {
    return fail(ErrorCode::unknown_type,
                "unknown command type '" + t.substr(0, 64) +
                    "' (card.show, card.hide, sale.start, sale.update, sale.end, overlay.clear, schedule.cancel)");
  }
  if (err) return fail(err->code, err->message);
  out.result = std::move(cmd);
  return out;
}

std::string command_to_json(const Command& c) {
  json j = {{"type", command_type_name(c.type)}, {"req", c.req}};
  if (c.at_ms) j["at_ms"] = *c.at_ms;
  if (c.type == CommandType::card_show || c.type == CommandType::sale_start) {
    const Overlay& o = c.overlay;
    json b = {{"id", o.id}, {"title", o.title}, {"price", o.price}, {"position", position_name(o.position)},
              {"locale", o.locale}};
    if (!o.original_price.empty()) b["original_price"] = o.original_price;
    if (!o.badge.empty()) b["badge"] = o.badge;
    if (!o.url.empty()) b["url"] = o.url;
    if (!o.image.empty()) b["image"] = o.image;
    if (o.kind == OverlayKind::sale) {
      b["stock"] = o.stock;
      if (o.ends_at_ms) b["ends_at_ms"] = *o.ends_at_ms;
      else b["duration_ms"] = o.duration_ms;
      j["sale"] = std::move(b);
    } else {
      b["duration_ms"] = o.duration_ms;
      j["card"] = std::move(b);
    }
  } else if (c.type != CommandType::overlay_clear) {
    j["id"] = c.id;
    if (c.stock) j["stock"] = *c.stock;
    if (c.price) j["price"] = *c.price;
    if (c.update_ends_at_ms) j["ends_at_ms"] = *c.update_ends_at_ms;
  }
  return j.dump();
}

}  // namespace anchorcast::control
