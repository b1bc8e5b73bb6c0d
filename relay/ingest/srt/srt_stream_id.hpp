// The SRT streamid a caller sends in its handshake. Two forms (contract "Ingest"): the
// bare publish key, or the access-control syntax of the SRT project's
// docs/features/access-control.md: "#!::" then comma-separated key=value pairs, of which
// we use r= (the resource: the publish key to publish, the stream id to play) and m=
// (the mode).
#pragma once

#include <string>
#include <string_view>

#include "anchorcast/core/result.hpp"

namespace anchorcast {

struct SrtStreamRequest {
  enum class Mode { publish, request, bidirectional };
  // publish: the publish key, a secret (never log it); request: the stream id to play.
  std::string resource;
  Mode mode = Mode::publish;
  std::string user;           // u=, for log lines; not used for access
  bool access_control = false;  // true for the "#!::" form
};

inline constexpr size_t kSrtMaxStreamIdSize = 512;  // libsrt's own limit on SRTO_STREAMID

// Errors name what is wrong without echoing the value (it may be a key).
Result<SrtStreamRequest> parse_srt_stream_id(std::string_view stream_id);

}  // namespace anchorcast
