#include "relay/http/whep_endpoint.hpp"

#include <cctype>
#include <string>
#include <variant>

#include "anchorcast/egress/webrtc_egress.hpp"
#include "anchorcast/hub/hub.hpp"

namespace anchorcast {

namespace {

constexpr std::string_view kPrefix = "/whep/";

// RFC 9725 4.1 leaves CORS to the deployment; players live on other origins, and the
// session URL must be readable from script (Location).
void add_cors(HttpResponse& r) {
  r.headers.emplace_back("Access-Control-Allow-Origin", "*");
  r.headers.emplace_back("Access-Control-Allow-Methods", "POST, DELETE, OPTIONS");
  r.headers.emplace_back("Access-Control-Allow-Headers", "Content-Type, Authorization, If-Match");
  r.headers.emplace_back("Access-Control-Expose-Headers", "Location, Link, ETag");
  r.headers.emplace_back("Access-Control-Max-Age", "600");
}

HttpResponse with_cors(HttpResponse r) {
  add_cors(r);
  return r;
}

bool is_sdp_content_type(const std::optional<std::string>& header) {
  if (!header) return false;
  std::string value;
  for (char c : *header) {
    if (c == ';') break;
    if (c != ' ' && c != '\t') value.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return value == "application/sdp";
}

HttpResponse post_offer(webrtc::WebRtcEgress& whep, const HttpRequest& req, const std::string& id) {
  if (!is_sdp_content_type(req.header("content-type")))
    return HttpResponse::error(415, "unsupported_media_type", "POST the SDP offer with Content-Type: application/sdp");
  auto rendition = parse_rendition(req.query_param("rendition").value_or(""));
  if (!rendition) return HttpResponse::error(400, "bad_rendition", "rendition must be 'main' or 'source'");
  auto result = whep.offer(id, *rendition, req.body);
  if (auto* refusal = std::get_if<webrtc::WhepRefusal>(&result))
    return HttpResponse::error(refusal->status, refusal->code, refusal->message);
  auto& answer = std::get<webrtc::WhepAnswer>(result);
  HttpResponse r;
  r.status = 201;
  r.content_type = "application/sdp";
  r.headers.emplace_back("Location", std::string(kPrefix) + id + "/" + answer.session_id);
  r.body = std::make_shared<const std::string>(std::move(answer.sdp));
  return r;
}

}  // namespace

HttpResponse handle_whep(webrtc::WebRtcEgress* whep, const HttpRequest& req) {
  std::string_view rest = std::string_view(req.path).substr(kPrefix.size());
  auto slash = rest.find('/');
  std::string id(rest.substr(0, slash));
  std::string session = slash == std::string_view::npos ? "" : std::string(rest.substr(slash + 1));

  if (req.method == "OPTIONS") return with_cors(HttpResponse::text(204, ""));
  if (!whep) return with_cors(HttpResponse::error(503, "unavailable", "WebRTC egress is not running"));
  if (slash == std::string_view::npos) {
    if (req.method != "POST") {
      auto r = HttpResponse::error(405, "method", "POST an SDP offer to /whep/{id}");
      r.headers.emplace_back("Allow", "POST, OPTIONS");
      return with_cors(std::move(r));
    }
    return with_cors(post_offer(*whep, req, id));
  }
  if (req.method != "DELETE") {
    // No trickle ICE or ICE restart (RFC 9725 4.3): ICE-lite with one host candidate.
    auto r = HttpResponse::error(405, "method", "DELETE the session URL to end it");
    r.headers.emplace_back("Allow", "DELETE, OPTIONS");
    return with_cors(std::move(r));
  }
  if (session.empty() || !whep->end(id, session))
    return with_cors(HttpResponse::error(404, "not_found", "no session '" + session + "' of stream '" + id + "'"));
  return with_cors(HttpResponse::text(200, ""));
}

}  // namespace anchorcast
