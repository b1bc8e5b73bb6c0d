// The pages: /watch/{id} (viewer), /console/{id} (merchant), and their bundled scripts
// and styles under /web/. Every byte is embedded (web_assets.hpp): no CDN, no files.
#include "relay/http/router.hpp"
#include "relay/http/web_assets.hpp"

namespace anchorcast {

namespace {

HttpResponse asset_response(const WebAsset& a, const HttpRequest& req) {
  HttpResponse r;
  if (req.header("if-none-match") == std::string(a.etag)) {
    r.status = 304;
    r.body = nullptr;
  } else {
    r.status = 200;
    r.body = std::make_shared<const std::string>(a.bytes);
  }
  r.content_type = std::string(a.content_type);
  r.headers.emplace_back("ETag", std::string(a.etag));
  // Revalidated on every load: a new build's bundle is picked up at once.
  r.headers.emplace_back("Cache-Control", "no-cache");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  return r;
}

}  // namespace

std::optional<HttpResponse> Router::web(const HttpRequest& req) {
  std::string_view path = req.path;
  std::string_view page;
  std::string id;
  if (path.substr(0, 7) == "/watch/") {
    page = "watch.html";
    id = path.substr(7);
  } else if (path.substr(0, 9) == "/console/") {
    page = "console.html";
    id = path.substr(9);
  } else if (path.substr(0, 5) != "/web/") {
    return std::nullopt;
  }
  if (req.method != "GET" && req.method != "HEAD") return HttpResponse::error(405, "method", "use GET");
  if (page.empty()) {
    const WebAsset* a = find_web_asset(path.substr(5));
    if (!a || a->name.find(".html") != std::string_view::npos)
      return HttpResponse::error(404, "not_found", "no such file");
    return asset_response(*a, req);
  }
  if (!is_valid_stream_id(id) || !hub_.find(id)) return HttpResponse::error(404, "not_found", "unknown stream '" + id + "'");
  const WebAsset* a = find_web_asset(page);
  if (!a) return HttpResponse::error(500, "internal", "page missing from this build");
  HttpResponse r = asset_response(*a, req);
  // Same-origin scripts, styles, media and API calls only; images may be blob:/data: previews.
  r.headers.emplace_back("Content-Security-Policy",
                         "default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; "
                         "connect-src 'self' ws: wss:; worker-src 'self' blob:; style-src 'self'; "
                         "object-src 'none'; base-uri 'none'; frame-ancestors 'self'");
  return r;
}

}  // namespace anchorcast
