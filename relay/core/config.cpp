#include "anchorcast/core/config.hpp"

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

namespace anchorcast {

namespace {

using nlohmann::json;

Error key_error(const std::string& key, const std::string& what) { return make_error(key + ": " + what); }

Result<ListenAddress> parse_listen(const std::string& key, const json& v) {
  if (!v.is_string()) return key_error(key, "must be a string \"host:port\"");
  std::string s = v.get<std::string>();
  auto colon = s.rfind(':');
  if (colon == std::string::npos || colon + 1 == s.size())
    return key_error(key, "must be \"host:port\", got \"" + s + "\"");
  std::string host = s.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty()) host = "0.0.0.0";
  std::string port_text = s.substr(colon + 1);
  for (char c : port_text)
    if (c < '0' || c > '9') return key_error(key, "port must be a number, got \"" + port_text + "\"");
  if (port_text.size() > 5) return key_error(key, "port out of range: " + port_text);
  int port = std::stoi(port_text);
  if (port < 1 || port > 65535) return key_error(key, "port out of range: " + port_text);
  return ListenAddress{host, static_cast<uint16_t>(port)};
}

Result<std::string> get_string(const json& obj, const std::string& key, const char* name, bool required,
                               std::string fallback = {}) {
  auto it = obj.find(name);
  if (it == obj.end() || it->is_null()) {
    if (required) return key_error(key + "." + name, "missing");
    return fallback;
  }
  if (!it->is_string()) return key_error(key + "." + name, "must be a string");
  return it->get<std::string>();
}

Result<const json*> get_object(const json& root, const char* name) {
  auto it = root.find(name);
  if (it == root.end() || it->is_null()) return static_cast<const json*>(nullptr);
  if (!it->is_object()) return key_error(name, "must be an object");
  return &*it;
}

Status parse_section_listen(const json& root, const char* section, ListenAddress& out) {
  auto obj = get_object(root, section);
  if (!obj) return obj.error();
  if (!*obj) return {};
  auto it = (*obj)->find("listen");
  if (it == (*obj)->end()) return {};
  auto addr = parse_listen(std::string(section) + ".listen", *it);
  if (!addr) return addr.error();
  out = *addr;
  return {};
}

Result<int> get_int(const json& obj, const std::string& key, int lo, int hi, int fallback) {
  auto it = obj.find(key.substr(key.rfind('.') + 1));
  if (it == obj.end() || it->is_null()) return fallback;
  if (!it->is_number_integer()) return key_error(key, "must be an integer");
  auto v = it->get<int64_t>();
  if (v < lo || v > hi) return key_error(key, "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
  return static_cast<int>(v);
}

Result<StreamConfig> parse_stream(const json& v, const std::string& key) {
  if (!v.is_object()) return key_error(key, "must be an object");
  StreamConfig s;
  auto id = get_string(v, key, "id", true);
  if (!id) return id.error();
  if (!is_valid_stream_id(*id)) return key_error(key + ".id", "must match [A-Za-z0-9_-]{1,64}");
  s.id = *id;
  auto pk = get_string(v, key, "publish_key", true);
  if (!pk) return pk.error();
  if (pk->empty()) return key_error(key + ".publish_key", "must not be empty");
  if (pk->size() > 256) return key_error(key + ".publish_key", "longer than 256 characters");
  s.publish_key = *pk;
  auto overlay = get_string(v, key, "overlay", false, "burn-in");
  if (!overlay) return overlay.error();
  if (*overlay == "burn-in") s.overlay = OverlayMode::burn_in;
  else if (*overlay == "metadata") s.overlay = OverlayMode::metadata;
  else return key_error(key + ".overlay", "must be \"burn-in\" or \"metadata\", got \"" + *overlay + "\"");
  if (auto it = v.find("merchant_tokens"); it != v.end() && !it->is_null()) {
    if (!it->is_array()) return key_error(key + ".merchant_tokens", "must be an array of strings");
    for (size_t i = 0; i < it->size(); ++i) {
      const auto& t = (*it)[i];
      std::string tkey = key + ".merchant_tokens[" + std::to_string(i) + "]";
      if (!t.is_string()) return key_error(tkey, "must be a string");
      if (t.get<std::string>().empty()) return key_error(tkey, "must not be empty");
      s.merchant_tokens.push_back(t.get<std::string>());
    }
  }
  return s;
}

}  // namespace

bool is_valid_stream_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

Result<Config> parse_config(std::string_view text) {
  json root = json::parse(text, nullptr, /*allow_exceptions=*/false, /*ignore_comments=*/true);
  if (root.is_discarded()) {
    // Parse again with exceptions only to recover the position for the message.
    try {
      [[maybe_unused]] json again = json::parse(text, nullptr, true, true);
    } catch (const json::parse_error& e) {
      return make_error(std::string("config is not valid JSON: ") + e.what());
    }
    return make_error("config is not valid JSON");
  }
  if (!root.is_object()) return make_error("config: the top level must be an object");

  Config c;
  for (auto [section, addr] : {std::pair<const char*, ListenAddress*>{"http", &c.http},
                               {"rtmp", &c.rtmp}, {"srt", &c.srt}, {"webrtc", &c.webrtc}}) {
    if (auto st = parse_section_listen(root, section, *addr); !st) return st.error();
  }
  if (auto srt = get_object(root, "srt"); !srt) return srt.error();
  else if (*srt) {
    auto latency = get_int(**srt, "srt.latency_ms", 20, 8000, c.srt_latency_ms);
    if (!latency) return latency.error();
    c.srt_latency_ms = *latency;
    auto passphrase = get_string(**srt, "srt", "passphrase", false, "");
    if (!passphrase) return passphrase.error();
    if (!passphrase->empty() && (passphrase->size() < 10 || passphrase->size() > 79))
      return key_error("srt.passphrase", "must be 10 to 79 characters (SRT's AES key derivation)");
    c.srt_passphrase = *passphrase;
  }
  if (auto webrtc = get_object(root, "webrtc"); !webrtc) return webrtc.error();
  else if (*webrtc) {
    auto ip = get_string(**webrtc, "webrtc", "public_ip", false, c.webrtc_public_ip);
    if (!ip) return ip.error();
    c.webrtc_public_ip = *ip;
    if (auto it = (*webrtc)->find("udp_gso"); it != (*webrtc)->end() && !it->is_null()) {
      if (!it->is_boolean()) return key_error("webrtc.udp_gso", "must be true or false");
      c.webrtc_udp_gso = it->get<bool>();
    }
  }
  if (auto hls = get_object(root, "hls"); !hls) return hls.error();
  else if (*hls) {
    auto target = get_int(**hls, "hls.target_duration_ms", 200, 10000, c.hls.target_duration_ms);
    if (!target) return target.error();
    c.hls.target_duration_ms = *target;
    auto window = get_int(**hls, "hls.window_segments", 3, 30, c.hls.window_segments);
    if (!window) return window.error();
    c.hls.window_segments = *window;
  }
  if (auto plane = get_object(root, "data_plane"); !plane) return plane.error();
  else if (*plane) {
    auto threads = get_int(**plane, "data_plane.threads", 1, 256, 0);
    if (!threads) return threads.error();
    c.data_plane_threads = *threads;
    auto batch = get_int(**plane, "data_plane.write_batch_ms", 0, 500, c.data_plane_write_batch_ms);
    if (!batch) return batch.error();
    c.data_plane_write_batch_ms = *batch;
  }
  auto data_dir = get_string(root, "", "data_dir", false, c.data_dir);
  if (!data_dir) return key_error("data_dir", "must be a string");
  c.data_dir = *data_dir;
  auto admin = get_string(root, "", "admin_token", false, "");
  if (!admin) return key_error("admin_token", "must be a string");
  c.admin_token = *admin;
  if (auto control = get_object(root, "control"); !control) return control.error();
  else if (*control) {
    auto rate = get_int(**control, "control.rate_limit_per_s", 1, 1000000, c.control.rate_limit_per_s);
    if (!rate) return rate.error();
    c.control.rate_limit_per_s = *rate;
    if (auto it = (*control)->find("fsync"); it != (*control)->end() && !it->is_null()) {
      if (!it->is_boolean()) return key_error("control.fsync", "must be true or false");
      c.control.fsync = it->get<bool>();
    }
    if (auto it = (*control)->find("allowed_origins"); it != (*control)->end() && !it->is_null()) {
      if (!it->is_array()) return key_error("control.allowed_origins", "must be an array of strings");
      for (size_t i = 0; i < it->size(); ++i) {
        std::string okey = "control.allowed_origins[" + std::to_string(i) + "]";
        const auto& o = (*it)[i];
        if (!o.is_string()) return key_error(okey, "must be a string");
        const auto& text = o.get_ref<const std::string&>();
        if (text.rfind("http://", 0) != 0 && text.rfind("https://", 0) != 0)
          return key_error(okey, "must be an origin such as \"https://shop.example\"");
        c.control.allowed_origins.push_back(text);
      }
    }
  }
  auto level = get_string(root, "", "log_level", false, c.log_level);
  if (!level) return key_error("log_level", "must be a string");
  if (*level != "debug" && *level != "info" && *level != "warn" && *level != "error")
    return key_error("log_level", "must be one of debug, info, warn, error");
  c.log_level = *level;

  if (auto it = root.find("streams"); it != root.end() && !it->is_null()) {
    if (!it->is_array()) return key_error("streams", "must be an array");
    std::set<std::string> ids, keys;
    for (size_t i = 0; i < it->size(); ++i) {
      std::string key = "streams[" + std::to_string(i) + "]";
      auto s = parse_stream((*it)[i], key);
      if (!s) return s.error();
      if (!ids.insert(s->id).second) return key_error(key + ".id", "duplicate id \"" + s->id + "\"");
      if (!keys.insert(s->publish_key).second) return key_error(key + ".publish_key", "same key as another stream");
      c.streams.push_back(std::move(*s));
    }
  }
  // TCP listeners and UDP listeners may share a number, but not within one transport.
  using Named = std::pair<const char*, const ListenAddress*>;
  for (auto transport : {std::vector<Named>{{"http.listen", &c.http}, {"rtmp.listen", &c.rtmp}},
                         std::vector<Named>{{"srt.listen", &c.srt}, {"webrtc.listen", &c.webrtc}}}) {
    if (transport[0].second->port == transport[1].second->port)
      return key_error(transport[1].first, "port " + std::to_string(transport[1].second->port) + " is also " +
                                               transport[0].first);
  }
  return c;
}

Result<StreamConfig> parse_stream_config(std::string_view text) {
  json v = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (v.is_discarded()) return make_error("the body is not valid JSON");
  auto s = parse_stream(v, "stream");
  if (!s) return make_error(s.error().message.substr(s.error().message.rfind("stream.", 0) == 0 ? 7 : 0));
  return s;
}

std::string stream_config_to_json(const StreamConfig& s) {
  json j = {{"id", s.id},
            {"publish_key", s.publish_key},
            {"overlay", s.overlay == OverlayMode::metadata ? "metadata" : "burn-in"},
            {"merchant_tokens", s.merchant_tokens}};
  return j.dump();
}

Result<Config> load_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error("cannot read config file '" + path + "'");
  std::ostringstream buf;
  buf << in.rdbuf();
  return parse_config(buf.str());
}

}  // namespace anchorcast
