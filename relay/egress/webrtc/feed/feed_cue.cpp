#include "relay/egress/webrtc/feed/feed_cue.hpp"

#include <nlohmann/json.hpp>

namespace anchorcast::webrtc {
namespace {

using json = nlohmann::ordered_json;

std::string message_of(const char* type, const Cue& cue, uint32_t rtp_timestamp, const json& source) {
  json out;
  out["type"] = type;
  out["version"] = cue.version;
  out["pts_ms"] = cue.pts_ms;
  out["rtp_timestamp"] = rtp_timestamp;
  for (const auto& [key, value] : source.items())
    if (key != "type" && key != "version" && key != "pts_ms" && key != "rtp_timestamp") out[key] = value;
  if (!out.contains("overlays")) out["overlays"] = json::array();
  // Replacement of invalid UTF-8: a data channel string message must be UTF-8 (RFC 8831 §6.6).
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

Result<FeedCue> stamp_cue(const Cue& cue, uint32_t rtp_timestamp) {
  json source = json::parse(cue.json, nullptr, false);
  if (source.is_discarded() || !source.is_object()) return make_error("cue json is not a JSON object");
  FeedCue out;
  out.pts_ms = cue.pts_ms;
  out.version = cue.version;
  out.rtp_timestamp = rtp_timestamp;
  out.cue_message = message_of("cue", cue, rtp_timestamp, source);
  out.snapshot_message = message_of("snapshot", cue, rtp_timestamp, source);
  return out;
}

const std::string& empty_snapshot_message() {
  static const std::string kEmpty = R"({"type":"snapshot","version":0,"overlays":[]})";
  return kEmpty;
}

}  // namespace anchorcast::webrtc
