// An HTTP/1.x request head (RFC 9112 §2–§5) read from bytes a peer sent: the request
// line and the header fields, up to and including the empty line. Bounded by the caller's
// limit, strict where leniency would let two parsers disagree about a message (bare CR or
// LF, line folding, whitespace before a colon, conflicting Content-Length), and it never
// trusts a length: it only looks for the end of the head. Views point into the input.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace anchorcast::http1 {

constexpr size_t kMaxFields = 100;

struct RequestHead {
  std::string_view method;  // a token: "GET", "HEAD", ...
  std::string_view target;  // as sent (origin-form for anything we serve)
  int minor_version = 1;    // HTTP/1.0 or HTTP/1.1
  std::vector<std::pair<std::string_view, std::string_view>> fields;  // names as sent, values trimmed
  size_t size = 0;  // bytes of the head, its empty line included

  // The first field of that name (compared without case).
  std::optional<std::string_view> field(std::string_view name) const;
  // RFC 9112 §9.3: HTTP/1.1 persists unless "Connection: close"; 1.0 only with "keep-alive".
  bool keep_alive() const;
  // A body follows the head: a Content-Length other than 0, or any Transfer-Encoding.
  bool has_body() const;
};

enum class HeadError {
  too_large,  // no end of head within the limit
  malformed,  // not an HTTP/1.0 or 1.1 request head
};

struct NeedMore {};  // a prefix of a head that may still be valid

using HeadParse = std::variant<RequestHead, NeedMore, HeadError>;

// Parses the head at the start of `bytes`. Up to four empty lines before the request line
// are skipped (RFC 9112 §2.2) and counted in `size`.
HeadParse parse_request_head(std::string_view bytes, size_t max_head_bytes);

}  // namespace anchorcast::http1
