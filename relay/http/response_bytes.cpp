#include "relay/http/response_bytes.hpp"

#include <string_view>

namespace anchorcast {

namespace {

std::string_view reason(int status) {
  switch (status) {
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 422: return "Unprocessable Content";
    case 426: return "Upgrade Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Status";
  }
}

void append_field(std::string& out, std::string_view name, std::string_view value) {
  out.append(name).append(": ");
  for (char c : value) out.push_back(c == '\r' || c == '\n' ? ' ' : c);
  out.append("\r\n");
}

}  // namespace

ResponseBytes response_bytes(const HttpResponse& response, bool keep_alive, bool head_request) {
  ResponseBytes out;
  std::string& h = out.head;
  h.reserve(256);
  h.append("HTTP/1.1 ").append(std::to_string(response.status)).append(" ").append(reason(response.status));
  h.append("\r\n");
  append_field(h, "Server", "anchorcast/" ANCHORCAST_VERSION);
  append_field(h, "Content-Type", response.content_type);
  for (const auto& [name, value] : response.headers) append_field(h, name, value);
  bool bodiless = response.status < 200 || response.status == 204 || response.status == 304;
  if (!bodiless) {
    append_field(h, "Content-Length", std::to_string(response.body ? response.body->size() : 0));
    if (!head_request && response.body && !response.body->empty()) out.body = response.body;
  }
  if (!keep_alive) append_field(h, "Connection", "close");
  h.append("\r\n");
  return out;
}

}  // namespace anchorcast
