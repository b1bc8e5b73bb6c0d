#include "relay/ingest/srt/srt_stream_id.hpp"

namespace anchorcast {

Result<SrtStreamRequest> parse_srt_stream_id(std::string_view id) {
  if (id.empty())
    return make_error("no streamid: publish with streamid=KEY or streamid=#!::r=KEY,m=publish");
  if (id.size() > kSrtMaxStreamIdSize)
    return make_error("streamid is longer than " + std::to_string(kSrtMaxStreamIdSize) + " bytes");
  SrtStreamRequest req;
  constexpr std::string_view kPrefix = "#!::";
  if (id.substr(0, 3) == "#!:" && id.substr(0, kPrefix.size()) != kPrefix)
    return make_error("streamid uses an access-control syntax we do not read (only \"#!::key=value,...\")");
  if (id.substr(0, kPrefix.size()) != kPrefix) {
    req.resource = std::string(id);  // the plain form: the whole streamid is the key
    return req;
  }

  req.access_control = true;
  std::string_view rest = id.substr(kPrefix.size());
  bool have_resource = false;
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view pair = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    if (eq == std::string_view::npos || eq == 0)
      return make_error("streamid access-control entry without key=value");
    std::string_view key = pair.substr(0, eq);
    std::string_view value = pair.substr(eq + 1);
    // access-control.md: r resource, m mode, u user, h host, s session, t type. Keys we
    // do not use (h, s, and custom ones) are ignored, as the document recommends.
    if (key == "r") {
      req.resource = std::string(value);
      have_resource = true;
    } else if (key == "m") {
      if (value == "publish") req.mode = SrtStreamRequest::Mode::publish;
      else if (value == "request") req.mode = SrtStreamRequest::Mode::request;
      else if (value == "bidirectional") req.mode = SrtStreamRequest::Mode::bidirectional;
      else return make_error("streamid m= is not publish, request or bidirectional");
    } else if (key == "u") {
      req.user = std::string(value);
    } else if (key == "t") {
      if (value != "stream") return make_error("streamid t= must be 'stream' (live MPEG-TS), not a file or auth session");
    }
  }
  if (!have_resource || req.resource.empty())
    return make_error("streamid has no r= (publish with #!::r=KEY,m=publish)");
  // The access-control document's default mode is "request" (playback), but this
  // listener is for anchors: a missing m= means publish, the one thing it serves.
  return req;
}

}  // namespace anchorcast
