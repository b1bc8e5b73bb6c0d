#include "http/router.hpp"

#include <nlohmann/json.hpp>

namespace anchorcast {

namespace {

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }
bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

nlohmann::json ingest_json(const StreamSnapshot& s) {
  nlohmann::json ingest = {{"protocol", s.protocol}};
  if (s.tracks && s.tracks->video) {
    const auto& v = *s.tracks->video;
    ingest["video"] = {{"codec", codec_name(v.codec)}, {"width", v.width}, {"height", v.height}, {"fps", v.fps}};
  } else {
    ingest["video"] = nullptr;
  }
  if (s.tracks && s.tracks->audio) {
    const auto& a = *s.tracks->audio;
    ingest["audio"] = {{"codec", codec_name(a.codec)}, {"sample_rate", a.sample_rate}, {"channels", a.channels}};
  } else {
    ingest["audio"] = nullptr;
  }
  return ingest;
}

int viewers_of(const StreamSnapshot& s, ViewerProtocol p) { return s.viewers[static_cast<int>(p)]; }

}  // namespace

HttpResponse Router::streams_json() const {
  auto list = nlohmann::json::array();
  for (const auto& stream : hub_.streams()) {
    StreamSnapshot s = stream->snapshot();
    nlohmann::json j = {
        {"id", s.id},
        {"live", s.live},
        {"ingest", s.live ? ingest_json(s) : nlohmann::json(nullptr)},
        {"viewers",
         {{"webrtc", viewers_of(s, ViewerProtocol::webrtc)},
          {"hls", hls_.viewers(s.id)},
          {"flv", viewers_of(s, ViewerProtocol::flv)},
          {"rtmp", viewers_of(s, ViewerProtocol::rtmp)}}},
        {"overlays", 0},
        {"stats", {{"bytes_in", s.bytes_in}, {"packets_in", s.packets_in}, {"packets_dropped", s.packets_dropped},
                   {"publisher_sessions", s.sessions}}},
    };
    list.push_back(std::move(j));
  }
  return HttpResponse::json(200, list.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

RouteResult Router::route(const HttpRequest& req) {
  const std::string& path = req.path;
  bool get = req.method == "GET" || req.method == "HEAD";

  if (path == "/healthz") return get ? HttpResponse::text(200, "ok\n") : HttpResponse::error(405, "method", "use GET");
  if (path == "/metrics") {
    if (!get) return HttpResponse::error(405, "method", "use GET");
    HttpResponse r = HttpResponse::text(200, metrics_.render());
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    return r;
  }
  if (path == "/api/v1/streams") {
    if (!get) return HttpResponse::error(405, "method", "use GET");
    return streams_json();
  }
  if (starts_with(path, "/hls/")) {
    if (!get) return HttpResponse::error(405, "method", "use GET");
    std::string_view rest = std::string_view(path).substr(5);
    auto slash = rest.find('/');
    if (slash == std::string_view::npos) return HttpResponse::error(404, "not_found", "use /hls/{id}/index.m3u8");
    std::string id(rest.substr(0, slash));
    std::string file(rest.substr(slash + 1));
    if (!is_valid_stream_id(id) || !hub_.find(id))
      return HttpResponse::error(404, "not_found", "unknown stream '" + id + "'");
    if (file.find('/') != std::string::npos) return HttpResponse::error(404, "not_found", "no such file");
    return hls_.serve(id, file, req);
  }
  if (starts_with(path, "/flv/") && ends_with(path, ".flv")) {
    if (!get) return HttpResponse::error(405, "method", "use GET");
    std::string id = path.substr(5, path.size() - 5 - 4);
    auto stream = is_valid_stream_id(id) ? hub_.find(id) : nullptr;
    if (!stream) return HttpResponse::error(404, "not_found", "unknown stream '" + id + "'");
    if (!stream->live()) return HttpResponse::error(404, "not_live", "stream '" + id + "' is not live");
    return FlvPlayback{std::move(stream)};
  }
  return HttpResponse::error(404, "not_found", "no route for " + path);
}

}  // namespace anchorcast
