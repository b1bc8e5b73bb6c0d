#include "relay/protocol/flv/cue_point.hpp"

#include <string>

#include "relay/protocol/rtmp/amf0.hpp"

namespace anchorcast::flv {

std::vector<uint8_t> serialize_overlay_cue_point(int64_t pts_ms, uint64_t version, std::string_view cue_json) {
  using rtmp::Amf0Value;
  Amf0Value parameters = Amf0Value::make_object();
  // A long JSON (inline images) becomes an AMF0 long string: make_string picks it.
  parameters.set("json", Amf0Value::make_string(std::string(cue_json)));
  parameters.set("version", Amf0Value::make_number(static_cast<double>(version)));
  Amf0Value point = Amf0Value::make_object();
  point.set("name", Amf0Value::make_string(std::string(kOverlayCuePointName)));
  point.set("time", Amf0Value::make_number(static_cast<double>(pts_ms) / 1000.0));
  point.set("type", Amf0Value::make_string("event"));
  point.set("parameters", std::move(parameters));
  const Amf0Value values[] = {Amf0Value::make_string("onCuePoint"), std::move(point)};
  return rtmp::encode_amf0(values);
}

}  // namespace anchorcast::flv
