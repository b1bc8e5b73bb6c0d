// A response as the bytes that go on the wire (RFC 9112): the head, then the shared body
// untouched. The one serializer for every response, whether the HTTP thread writes it or
// a data-plane loop does, so both send the same fields.
#pragma once

#include <memory>
#include <string>

#include "relay/http/http_message.hpp"

namespace anchorcast {

struct ResponseBytes {
  std::string head;                         // status line and fields, up to the empty line
  std::shared_ptr<const std::string> body;  // null when no body is sent
};

// Content-Length is the body's size (also for a HEAD request, which gets no body); a
// 1xx, 204 or 304 response has neither. Without `keep_alive` it says "Connection: close".
// CR and LF in a field value become spaces: a value never starts a field of its own.
ResponseBytes response_bytes(const HttpResponse& response, bool keep_alive, bool head_request);

}  // namespace anchorcast
