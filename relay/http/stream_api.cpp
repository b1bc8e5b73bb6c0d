// The stream-scoped endpoints the viewer page and the merchant console call:
//   GET  /api/v1/streams/{id}/overlays        the latest cue (public, read-only)
//   POST /api/v1/streams/{id}/events          a viewer's click or impression
//   POST /api/v1/streams/{id}/assets          image upload with the stream's merchant token
//   GET  /api/v1/streams/{id}/assets/{asset}  an image the stream shows (or any, for its merchants)
#include <chrono>
#include <nlohmann/json.hpp>

#include "relay/http/router.hpp"

namespace anchorcast {

namespace {

int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// "img-" + 16 hex digits (the control plane's asset ids).
bool valid_asset_id(std::string_view id) {
  if (id.size() != 20 || id.substr(0, 4) != "img-") return false;
  for (char c : id.substr(4))
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

HttpResponse no_store(HttpResponse r) {
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

}  // namespace

std::optional<RouteResult> Router::stream_api(const HttpRequest& req) {
  constexpr std::string_view kPrefix = "/api/v1/streams/";
  std::string_view path = req.path;
  if (path.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  std::string_view rest = path.substr(kPrefix.size());
  auto slash = rest.find('/');
  if (slash == std::string_view::npos) return std::nullopt;  // /api/v1/streams/{id}: admin
  std::string id(rest.substr(0, slash));
  std::string_view what = rest.substr(slash + 1);
  std::string_view asset;
  if (what.substr(0, 7) == "assets/") {
    asset = what.substr(7);
    what = "assets/";
  }
  if (what != "overlays" && what != "events" && what != "assets" && what != "assets/") return std::nullopt;

  auto source = is_valid_stream_id(id) ? hub_.find(id) : nullptr;
  if (!source) return HttpResponse::error(404, "not_found", "unknown stream '" + id + "'");
  auto main = hub_.composited(id);

  if (what == "overlays") {
    if (req.method != "GET" && req.method != "HEAD") return HttpResponse::error(405, "method", "use GET");
    // A burn-in stream's main rendition is cued with the frame that shows a change; until
    // it has a cue (compositor not started), the source's is the state.
    CuePtr cue = main ? main->latest_cue() : nullptr;
    if (!cue) cue = source->latest_cue();
    std::string body = R"({"id":)" + nlohmann::json(id).dump() + R"(,"mode":")" +
                       (main ? "burn-in" : "metadata") + R"(","live":)" + (source->live() ? "true" : "false") +
                       R"(,"server_ms":)" + std::to_string(wall_ms()) + R"(,"cue":)" + (cue ? cue->json : "null") +
                       "}";
    return no_store(HttpResponse::json(200, std::move(body)));
  }

  if (what == "events") {
    if (req.method != "POST") return HttpResponse::error(405, "method", "use POST");
    auto refused = events_.record(id, address_without_port(req.remote_address), req.body, steady_ms());
    if (!refused) return HttpResponse::json(202, R"({"ok":true})");
    switch (refused->reason) {
      case ViewerEvents::Refusal::too_large:
        return HttpResponse::error(413, "too_large", refused->message);
      case ViewerEvents::Refusal::rate_limited: {
        auto r = HttpResponse::error(429, "rate_limited", refused->message);
        r.headers.emplace_back("Retry-After", "1");
        return r;
      }
      case ViewerEvents::Refusal::too_many_ids:
        return HttpResponse::error(409, "too_many_ids", refused->message);
      case ViewerEvents::Refusal::invalid:
        break;
    }
    return HttpResponse::error(400, "invalid", refused->message);
  }

  if (!control_) return HttpResponse::error(404, "not_found", "no control plane: assets are off");
  bool merchant = control_->merchant_allowed(id, req.header("authorization"), req.query_param("token"));

  if (what == "assets") {
    if (req.method != "POST") return HttpResponse::error(405, "method", "use POST with the image bytes");
    if (!merchant) {
      auto r = HttpResponse::error(401, "unauthorized", "uploads need a merchant token of this stream: "
                                                        "Authorization: Bearer TOKEN");
      r.headers.emplace_back("WWW-Authenticate", "Bearer");
      return r;
    }
    return upload_asset(req.body);
  }

  // assets/{asset}: viewers may fetch the images the stream shows right now.
  if (req.method != "GET" && req.method != "HEAD") return HttpResponse::error(405, "method", "use GET");
  std::string asset_id(asset);
  bool shown = false;
  if (valid_asset_id(asset_id)) {
    for (const auto& stream : {source, main}) {
      CuePtr cue = stream ? stream->latest_cue() : nullptr;
      shown = shown || (cue && cue->json.find('"' + asset_id + '"') != std::string::npos);
    }
  }
  auto bytes = (merchant || shown) ? control_->asset(asset_id) : std::nullopt;
  if (!bytes) return HttpResponse::error(404, "not_found", "no asset '" + asset_id + "' on stream '" + id + "'");
  HttpResponse r;
  r.status = 200;
  r.content_type = bytes->first;
  r.body = std::make_shared<const std::string>(std::move(bytes->second));
  r.headers.emplace_back("Cache-Control", "private, max-age=3600");  // ids are content hashes
  return r;
}

}  // namespace anchorcast
