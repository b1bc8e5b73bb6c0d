// Plain request/response values: route handlers never see Beast types, which keeps
// Boost.Beast inside http_server.cpp (it is heavy to compile).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace anchorcast {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // percent-decoded, without the query
  std::vector<std::pair<std::string, std::string>> query;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  std::string remote_address;  // "127.0.0.1:53122"

  std::optional<std::string> query_param(std::string_view name) const;
  std::optional<std::string> header(std::string_view lower_name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::vector<std::pair<std::string, std::string>> headers;
  std::shared_ptr<const std::string> body;  // shared: segments are served without copying

  static HttpResponse text(int status, std::string body);
  static HttpResponse json(int status, std::string body);
  // {"error":"...","message":"..."} — every error a client can cause says what was wrong.
  static HttpResponse error(int status, std::string_view code, std::string_view message);
};

// Splits "/a/b?x=1&y=%20" into a request's path and query (percent-decoded). Returns
// nullopt for a target that is not origin-form or decodes to invalid bytes.
std::optional<std::pair<std::string, std::vector<std::pair<std::string, std::string>>>> parse_target(
    std::string_view target);

}  // namespace anchorcast
