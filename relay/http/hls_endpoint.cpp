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

}  // namespace

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
    r.content_type = "video/mp2t";
    // A segment never changes once listed; players and CDNs may keep it.
    r.headers.emplace_back("Cache-Control", "public, max-age=60");
    r.body = std::move(std::get<std::shared_ptr<const std::string>>(segment));
  }
  r.headers.emplace_back("Access-Control-Allow-Origin", "*");
  return r;
}

}  // namespace anchorcast
