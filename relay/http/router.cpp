#include "relay/http/router.hpp"

#include <cctype>
#include <nlohmann/json.hpp>

#include "anchorcast/egress/webrtc_egress.hpp"
#include "relay/http/whep_endpoint.hpp"

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
    ingest["video"] = {{"codec", codec_name(v.codec)}, {"width", v.width},   {"height", v.height},
                       {"fps", v.fps},              {"b_frames", s.b_frames}};
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

// Per rendition: {"video": "passthrough"|"transcoded"|"none", "transcoder_running": bool}.
nlohmann::json webrtc_json(webrtc::WebRtcEgress* whep, const std::string& id) {
  nlohmann::json out = nlohmann::json::object();
  if (!whep) return out;
  for (const auto& r : whep->renditions(id))
    out[r.rendition] = {{"video", r.video}, {"transcoder_running", r.transcoder_running}};
  return out;
}

}  // namespace

HttpResponse Router::streams_json() const {
  auto list = nlohmann::json::array();
  for (const StreamSnapshot& s : hub_.snapshots()) {
    nlohmann::json j = {
        {"id", s.id},
        {"live", s.live},
        {"ingest", s.live ? ingest_json(s) : nlohmann::json(nullptr)},
        {"viewers",
         {{"webrtc", viewers_of(s, ViewerProtocol::webrtc)},
          {"hls", hls_.viewers(s.id)},
          {"flv", viewers_of(s, ViewerProtocol::flv)},
          {"rtmp", viewers_of(s, ViewerProtocol::rtmp)},
          {"srt", viewers_of(s, ViewerProtocol::srt)}}},
        {"webrtc", webrtc_json(whep_, s.id)},
        {"overlays", control_ ? control_->overlay_count(s.id) : 0},
        {"stats", {{"bytes_in", s.bytes_in}, {"packets_in", s.packets_in}, {"packets_dropped", s.packets_dropped},
                   {"publisher_sessions", s.sessions}}},
    };
    list.push_back(std::move(j));
  }
  return HttpResponse::json(200, list.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

RouteResult Router::control_upgrade(const HttpRequest& req, const std::string& id) {
  if (req.method != "GET") return HttpResponse::error(405, "method", "use GET with a WebSocket upgrade");
  if (!control_ || !is_valid_stream_id(id) || !hub_.find(id))
    return HttpResponse::error(404, "not_found", "unknown stream '" + id + "'");
  if (!control_->origin_allowed(req.header("origin")))
    return HttpResponse::error(403, "forbidden_origin", "this Origin may not open the control channel");
  // Contract: a bad or missing token, or one this stream does not list, is 401 before the upgrade.
  if (!control_->merchant_allowed(id, req.header("authorization"), req.query_param("token"))) {
    auto r = HttpResponse::error(401, "unauthorized",
                                 "give a merchant token of this stream: Authorization: Bearer TOKEN or ?token=TOKEN");
    r.headers.emplace_back("WWW-Authenticate", "Bearer");
    return r;
  }
  std::string upgrade = req.header("upgrade").value_or("");
  for (auto& c : upgrade) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (upgrade.find("websocket") == std::string::npos)
    return HttpResponse::error(426, "upgrade_required", "open /control/{id} with a WebSocket client");
  return ControlUpgrade{id};
}

namespace {
nlohmann::json asset_json(const AssetInfo& a) {
  return {{"id", a.id}, {"type", a.mime}, {"width", a.width}, {"height", a.height}, {"bytes", a.bytes}};
}
}  // namespace

DeferredResponse Router::upload_asset(std::string bytes) {
  return {[this, bytes = std::move(bytes)](DeferredResponse::Done done) mutable {
    control_->add_asset(std::move(bytes), [done = std::move(done)](Result<AssetInfo> a) {
      done([a = std::move(a)] {
        if (!a) return HttpResponse::error(400, "invalid", "image: " + a.error().message);
        return HttpResponse::json(201, asset_json(*a).dump());
      });
    });
  }};
}

RouteResult Router::admin(const HttpRequest& req) {
  const std::string& path = req.path;
  if (!control_->admin_allowed(req.header("authorization"))) {
    auto r = HttpResponse::error(401, "unauthorized", "admin endpoints need Authorization: Bearer <admin_token>");
    r.headers.emplace_back("WWW-Authenticate", "Bearer");
    return r;
  }
  if (path == "/api/v1/streams") {  // POST
    auto s = parse_stream_config(req.body);
    if (!s) return HttpResponse::error(400, "invalid", s.error().message);
    return DeferredResponse{[this, s = std::move(*s)](DeferredResponse::Done done) {
      control_->create_stream(s, [this, id = s.id, done = std::move(done)](Result<std::shared_ptr<Stream>> created) {
        done([this, id, created = std::move(created)] {
          if (!created) return HttpResponse::error(409, "conflict", created.error().message);
          hls_.attach(hub_, id);
          return HttpResponse::json(201, nlohmann::json{{"id", id}}.dump());
        });
      });
    }};
  }
  if (starts_with(path, "/api/v1/streams/")) {
    if (req.method != "DELETE") return HttpResponse::error(405, "method", "use DELETE");
    std::string id = path.substr(16);
    if (!is_valid_stream_id(id) || !hub_.find(id)) return HttpResponse::error(404, "not_found", "unknown stream '" + id + "'");
    return DeferredResponse{[this, id](DeferredResponse::Done done) {
      control_->delete_stream(id, [this, id, done = std::move(done)](Status st) {
        done([this, id, st = std::move(st)] {
          if (!st) return HttpResponse::error(409, "conflict", st.error().message);
          hls_.detach(id);
          return HttpResponse::text(204, "");
        });
      });
    }};
  }
  if (path == "/api/v1/assets") {
    if (req.method == "POST") return upload_asset(req.body);
    if (req.method != "GET" && req.method != "HEAD") return HttpResponse::error(405, "method", "use GET or POST");
    auto list = nlohmann::json::array();
    for (const auto& a : control_->assets()) list.push_back(asset_json(a));
    return HttpResponse::json(200, list.dump());
  }
  // /api/v1/assets/{id}
  if (req.method != "GET" && req.method != "HEAD") return HttpResponse::error(405, "method", "use GET");
  auto bytes = control_->asset(path.substr(15));
  if (!bytes) return HttpResponse::error(404, "not_found", "no asset '" + path.substr(15) + "'");
  HttpResponse r;
  r.status = 200;
  r.content_type = bytes->first;
  r.body = std::make_shared<const std::string>(std::move(bytes->second));
  return r;
}

RouteResult Router::route(const HttpRequest& req) {
  const std::string& path = req.path;
  bool get = req.method == "GET" || req.method == "HEAD";

  if (starts_with(path, "/control/")) return control_upgrade(req, path.substr(9));
  if (starts_with(path, "/whep/")) return handle_whep(whep_, req);
  if (auto page = web(req)) return std::move(*page);
  if (auto api = stream_api(req)) return std::move(*api);
  if (control_ && ((path == "/api/v1/streams" && req.method == "POST") || starts_with(path, "/api/v1/streams/") ||
                   path == "/api/v1/assets" || starts_with(path, "/api/v1/assets/")))
    return admin(req);

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
  if (starts_with(path, "/hls/")) return hls_.route(req);
  auto rendition = parse_rendition(req.query_param("rendition").value_or(""));
  if (starts_with(path, "/flv/") && !rendition) return HttpResponse::error(400, "invalid", "rendition: use main or source");
  if (starts_with(path, "/flv/") && ends_with(path, ".flv")) {
    if (!get) return HttpResponse::error(405, "method", "use GET");
    std::string id = path.substr(5, path.size() - 5 - 4);
    auto source = is_valid_stream_id(id) ? hub_.find(id) : nullptr;
    if (!source) return HttpResponse::error(404, "not_found", "unknown stream '" + id + "'");
    // Liveness is the anchor's: the main rendition follows the source a frame later.
    if (!source->live()) return HttpResponse::error(404, "not_live", "stream '" + id + "' is not live");
    return FlvPlayback{hub_.find(id, *rendition)};
  }
  return HttpResponse::error(404, "not_found", "no route for " + path);
}

}  // namespace anchorcast
