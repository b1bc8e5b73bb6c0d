#include "relay/protocol/http1/request_head.hpp"

#include <cstdint>

namespace anchorcast::http1 {

namespace {

constexpr size_t kMaxMethodBytes = 16;
constexpr int kMaxLeadingEmptyLines = 4;

// RFC 9110 §5.6.2 tchar.
bool is_token_char(unsigned char c) {
  if (c >= '0' && c <= '9') return true;
  if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s)
    if (!is_token_char(c)) return false;
  return true;
}

// A field value: visible characters, spaces, tabs and obs-text; no control character.
bool is_field_value(std::string_view s) {
  for (unsigned char c : s)
    if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    unsigned char x = static_cast<unsigned char>(a[i]);
    unsigned char y = static_cast<unsigned char>(b[i]);
    if (x >= 'A' && x <= 'Z') x = static_cast<unsigned char>(x | 0x20);
    if (y >= 'A' && y <= 'Z') y = static_cast<unsigned char>(y | 0x20);
    if (x != y) return false;
  }
  return true;
}

// True when the comma-separated list holds `token` (without case).
bool list_has(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view item = trim(list.substr(0, comma));
    if (equals_ignoring_case(item, token)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

// Digits only, no overflow.
std::optional<uint64_t> parse_length(std::string_view s) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  uint64_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  return n;
}

// One line of the head, without its CRLF; nullopt on a bare CR or LF inside it.
std::optional<std::string_view> checked_line(std::string_view line) {
  if (line.find_first_of("\r\n") != std::string_view::npos) return std::nullopt;
  return line;
}

bool parse_request_line(std::string_view line, RequestHead& head) {
  size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return false;
  size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) return false;
  head.method = line.substr(0, sp1);
  head.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  if (!is_token(head.method) || head.method.size() > kMaxMethodBytes || head.target.empty()) return false;
  for (unsigned char c : head.target)
    if (c <= 0x20 || c >= 0x7f) return false;
  if (version == "HTTP/1.1") head.minor_version = 1;
  else if (version == "HTTP/1.0") head.minor_version = 0;
  else return false;
  return true;
}

}  // namespace

std::optional<std::string_view> RequestHead::field(std::string_view name) const {
  for (const auto& [n, v] : fields)
    if (equals_ignoring_case(n, name)) return v;
  return std::nullopt;
}

bool RequestHead::keep_alive() const {
  std::string_view connection = field("connection").value_or("");
  if (list_has(connection, "close")) return false;
  return minor_version == 1 || list_has(connection, "keep-alive");
}

bool RequestHead::has_body() const {
  if (field("transfer-encoding")) return true;
  auto length = field("content-length");
  return length && *length != "0";
}

HeadParse parse_request_head(std::string_view bytes, size_t max_head_bytes) {
  std::string_view window = bytes.substr(0, max_head_bytes);
  size_t pos = 0;
  for (int i = 0; i < kMaxLeadingEmptyLines && window.substr(pos, 2) == "\r\n"; ++i) pos += 2;
  size_t end = window.find("\r\n\r\n", pos);
  if (end == std::string_view::npos) {
    // A lone "\r\n" right after the skipped lines may be the start of a fifth one.
    if (window.size() < max_head_bytes) return NeedMore{};
    return HeadError::too_large;
  }
  RequestHead head;
  head.size = end + 4;
  std::string_view rest = window.substr(pos, end + 2 - pos);  // every line with its CRLF
  bool first = true;
  std::optional<uint64_t> content_length;
  while (!rest.empty()) {
    size_t eol = rest.find("\r\n");
    auto line = checked_line(rest.substr(0, eol));
    rest.remove_prefix(eol + 2);
    if (!line) return HeadError::malformed;
    if (first) {
      if (!parse_request_line(*line, head)) return HeadError::malformed;
      first = false;
      continue;
    }
    // obs-fold (a line starting with whitespace) is rejected, as RFC 9112 §5.2 allows.
    size_t colon = line->find(':');
    if (colon == std::string_view::npos) return HeadError::malformed;
    std::string_view name = line->substr(0, colon);
    std::string_view value = trim(line->substr(colon + 1));
    if (!is_token(name) || !is_field_value(value)) return HeadError::malformed;
    if (head.fields.size() == kMaxFields) return HeadError::too_large;
    if (equals_ignoring_case(name, "content-length")) {
      auto n = parse_length(value);
      // RFC 9112 §6.3: an invalid or conflicting length is an unrecoverable error.
      if (!n || (content_length && *content_length != *n)) return HeadError::malformed;
      content_length = n;
    }
    head.fields.emplace_back(name, value);
  }
  if (first) return HeadError::malformed;
  return head;
}

}  // namespace anchorcast::http1
