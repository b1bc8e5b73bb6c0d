#include "relay/http/hls_endpoint.hpp"

namespace anchorcast {

namespace {

HttpResponse miss_response(HlsMiss miss, const std::string& stream_id, const std::string& file) {
  switch (miss) {
    case HlsMiss::unknown_stream:
      return HttpResponse::error(404, "not_found", "unknown stream '" + stream_id + "'");
    case HlsMiss::not_live:
      return HttpResponse::error(404, "not_live", "stream '" + stream_id + "' is not live");
    case HlsMiss::no_segment_yet:
      return HttpResponse::error(404, "not_live", "stream '" + stream_id + "' has no segment yet");
    case HlsMiss::unknown_segment:
      break;
  }
  return HttpResponse::error(404, "not_found", "no segment '" + file + "' (it may have slid out)");
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

}  // namespace

HttpResponse HlsEndpoint::route(const HttpRequest& request) {
  if (request.method != "GET" && request.method != "HEAD") return HttpResponse::error(405, "method", "use GET");
  auto rendition = parse_rendition(request.query_param("rendition").value_or(""));
  if (!rendition) return HttpResponse::error(400, "invalid", "rendition: use main or source");
  std::string_view path = request.path;
  if (!starts_with(path, "/hls/")) return HttpResponse::error(404, "not_found", "use /hls/{id}/index.m3u8");
  std::string_view rest = path.substr(5);
  auto slash = rest.find('/');
  if (slash == std::string_view::npos) return HttpResponse::error(404, "not_found", "use /hls/{id}/index.m3u8");
  std::string id(rest.substr(0, slash));
  std::string file(rest.substr(slash + 1));
  if (!is_valid_stream_id(id) || !hub_.find(id))
    return HttpResponse::error(404, "not_found", "unknown stream '" + id + "'");
  if (file.find('/') != std::string::npos) return HttpResponse::error(404, "not_found", "no such file");
  return serve(id, *rendition, file, request);
}

HttpResponse HlsEndpoint::serve(const std::string& stream_id, Rendition rendition, const std::string& file,
                                const HttpRequest& request) {
  HttpResponse r;
  if (file == "index.m3u8") {
    // One player: its address without the port, and its user agent.
    std::string client = request.remote_address.substr(0, request.remote_address.rfind(':')) + "|" +
                         request.header("user-agent").value_or("");
    auto playlist = service_.playlist(stream_id, rendition, client);
    if (auto* miss = std::get_if<HlsMiss>(&playlist)) return miss_response(*miss, stream_id, file);
    r.content_type = "application/vnd.apple.mpegurl";
    r.headers.emplace_back("Cache-Control", "no-cache");
    r.body = std::make_shared<const std::string>(std::move(std::get<std::string>(playlist)));
  } else {
    auto segment = service_.segment(stream_id, rendition, file);
    if (auto* miss = std::get_if<HlsMiss>(&segment)) return miss_response(*miss, stream_id, file);
    // fMP4 (RFC 8216 §3.3): the init section and the segments are MP4.
    const bool mp4 = file.ends_with(".m4s") || file.ends_with(".mp4");
    r.content_type = mp4 ? "video/mp4" : "video/mp2t";
    // A segment never changes once listed; players and CDNs may keep it.
    r.headers.emplace_back("Cache-Control", "public, max-age=60");
    r.body = std::move(std::get<std::shared_ptr<const std::string>>(segment));
  }
  r.headers.emplace_back("Access-Control-Allow-Origin", "*");
  return r;
}

}  // namespace anchorcast
