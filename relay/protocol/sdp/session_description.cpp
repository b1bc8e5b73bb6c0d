#include "relay/protocol/sdp/session_description.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace anchorcast::sdp {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// Splits off the next space-separated token of `s`.
std::string_view next_token(std::string_view& s) {
  s = trim(s);
  const size_t end = s.find(' ');
  std::string_view token = s.substr(0, end);
  s = end == std::string_view::npos ? std::string_view{} : s.substr(end + 1);
  return token;
}

template <class T>
bool parse_number(std::string_view s, T& out) {
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && ptr == s.data() + s.size();
}

bool parse_payload_type(std::string_view s, uint8_t& pt) {
  unsigned v = 0;
  if (!parse_number(s, v) || v > 127) return false;
  pt = static_cast<uint8_t>(v);
  return true;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

MediaType media_type(std::string_view name) {
  if (name == "audio") return MediaType::audio;
  if (name == "video") return MediaType::video;
  if (name == "application") return MediaType::application;
  return MediaType::other;
}

Error line_error(size_t line, std::string what) {
  return make_error("SDP line " + std::to_string(line) + ": " + std::move(what));
}

Result<Fingerprint> parse_fingerprint(std::string_view value, size_t line) {
  std::string_view rest = value;
  std::string_view algorithm = next_token(rest);
  std::string_view fp = trim(rest);
  if (algorithm.empty() || fp.empty() || fp.size() > 256)
    return line_error(line, "a=fingerprint needs \"<hash> <hex:hex:...>\"");
  return Fingerprint{lower(algorithm), std::string(fp)};
}

// RFC 8122 §5 allows several a=fingerprint lines; keep the first sha-256 one (what
// browsers and our DTLS check use), else the first.
void keep_fingerprint(std::optional<Fingerprint>& kept, Fingerprint next) {
  if (!kept || (kept->algorithm != "sha-256" && next.algorithm == "sha-256")) kept = std::move(next);
}

// Holds the codec of `pt` in `m`, adding it (without rtpmap yet) when `create`.
Codec* find_codec(MediaSection& m, uint8_t pt) {
  for (auto& c : m.codecs)
    if (c.payload_type == pt) return &c;
  return nullptr;
}

struct PendingAttribute {  // fmtp / rtcp-fb may come before their rtpmap (Firefox)
  uint8_t payload_type;
  bool is_fmtp;
  std::string value;
};

Status apply_media_attribute(MediaSection& m, std::string_view name, std::string_view value, size_t line,
                             std::vector<PendingAttribute>& pending) {
  if (name == "mid") {
    if (value.empty() || value.size() > 64) return line_error(line, "a=mid must be 1..64 characters");
    m.mid = std::string(value);
  } else if (name == "sendrecv") {
    m.direction = Direction::sendrecv;
  } else if (name == "sendonly") {
    m.direction = Direction::sendonly;
  } else if (name == "recvonly") {
    m.direction = Direction::recvonly;
  } else if (name == "inactive") {
    m.direction = Direction::inactive;
  } else if (name == "rtcp-mux") {
    m.rtcp_mux = true;
  } else if (name == "rtcp-rsize") {
    m.rtcp_rsize = true;
  } else if (name == "ice-ufrag") {
    m.ice_ufrag = std::string(value);
  } else if (name == "ice-pwd") {
    m.ice_pwd = std::string(value);
  } else if (name == "setup") {
    m.setup = std::string(value);
  } else if (name == "fingerprint") {
    auto fp = parse_fingerprint(value, line);
    if (!fp) return fp.error();
    keep_fingerprint(m.fingerprint, std::move(*fp));
  } else if (name == "rtpmap") {
    std::string_view rest = value;
    uint8_t pt = 0;
    if (!parse_payload_type(next_token(rest), pt)) return line_error(line, "a=rtpmap payload type is not 0..127");
    std::string_view spec = trim(rest);
    const size_t slash = spec.find('/');
    if (slash == std::string_view::npos || slash == 0) return line_error(line, "a=rtpmap needs <encoding>/<clock rate>");
    Codec codec;
    codec.payload_type = pt;
    codec.encoding = std::string(spec.substr(0, slash));
    std::string_view rate = spec.substr(slash + 1);
    const size_t slash2 = rate.find('/');
    if (slash2 != std::string_view::npos) {
      if (!parse_number(rate.substr(slash2 + 1), codec.channels) || codec.channels < 1 || codec.channels > 255)
        return line_error(line, "a=rtpmap channel count is not 1..255");
      rate = rate.substr(0, slash2);
    }
    if (!parse_number(rate, codec.clock_rate) || codec.clock_rate == 0)
      return line_error(line, "a=rtpmap clock rate is not a positive number");
    if (find_codec(m, pt)) return line_error(line, "a=rtpmap repeats payload type " + std::to_string(pt));
    if (m.codecs.size() >= kMaxCodecsPerSection) return line_error(line, "too many a=rtpmap lines in one section");
    m.codecs.push_back(std::move(codec));
  } else if (name == "fmtp" || name == "rtcp-fb") {
    std::string_view rest = value;
    std::string_view pt_token = next_token(rest);
    if (pt_token == "*") return {};  // wildcard rtcp-fb: not used by browsers we meet
    uint8_t pt = 0;
    if (!parse_payload_type(pt_token, pt)) return line_error(line, "a=" + std::string(name) + " payload type is not 0..127");
    if (pending.size() >= kMaxCodecsPerSection * (kMaxFeedbackPerCodec + 1))
      return line_error(line, "too many a=fmtp/a=rtcp-fb lines in one section");
    pending.push_back({pt, name == "fmtp", std::string(trim(rest))});
  } else if (name == "extmap") {
    std::string_view rest = value;
    std::string_view id_token = next_token(rest);
    Extmap e;
    const size_t slash = id_token.find('/');
    if (slash != std::string_view::npos) {
      e.direction = std::string(id_token.substr(slash + 1));
      id_token = id_token.substr(0, slash);
    }
    if (!parse_number(id_token, e.id) || e.id < 1 || e.id > 255) return line_error(line, "a=extmap id is not 1..255");
    e.uri = std::string(next_token(rest));
    if (m.extmaps.size() >= kMaxExtmapsPerSection) return line_error(line, "too many a=extmap lines in one section");
    m.extmaps.push_back(std::move(e));
  } else if (name == "sctp-port") {
    uint16_t port = 0;
    if (!parse_number(value, port)) return line_error(line, "a=sctp-port is not 0..65535");
    m.sctp_port = port;
  }
  return {};
}

void attach_pending(MediaSection& m, std::vector<PendingAttribute>& pending) {
  for (auto& p : pending) {
    Codec* codec = find_codec(m, p.payload_type);
    if (!codec) continue;  // a PT without rtpmap: ignored with its attributes
    if (p.is_fmtp)
      codec->fmtp = std::move(p.value);
    else if (codec->feedback.size() < kMaxFeedbackPerCodec)
      codec->feedback.push_back(std::move(p.value));
  }
  pending.clear();
}

Status parse_media_line(std::string_view value, size_t line, MediaSection& m) {
  std::string_view rest = value;
  std::string_view type = next_token(rest);
  std::string_view port = next_token(rest);
  std::string_view protocol = next_token(rest);
  if (type.empty() || port.empty() || protocol.empty())
    return line_error(line, "m= needs <media> <port> <proto> <fmt>...");
  const size_t slash = port.find('/');  // "<port>/<count>" (RFC 8866 §5.14)
  if (!parse_number(port.substr(0, slash), m.port)) return line_error(line, "m= port is not 0..65535");
  m.type_name = std::string(type);
  m.type = media_type(type);
  m.protocol = std::string(protocol);
  while (!trim(rest).empty()) {
    if (m.formats.size() >= kMaxCodecsPerSection) return line_error(line, "m= lists too many formats");
    m.formats.emplace_back(next_token(rest));
  }
  return {};
}

}  // namespace

const Codec* MediaSection::codec(uint8_t payload_type) const {
  for (const auto& c : codecs)
    if (c.payload_type == payload_type) return &c;
  return nullptr;
}

std::optional<std::string> SessionDescription::ice_ufrag_of(const MediaSection& m) const {
  return m.ice_ufrag ? m.ice_ufrag : ice_ufrag;
}
std::optional<std::string> SessionDescription::ice_pwd_of(const MediaSection& m) const {
  return m.ice_pwd ? m.ice_pwd : ice_pwd;
}
std::optional<Fingerprint> SessionDescription::fingerprint_of(const MediaSection& m) const {
  return m.fingerprint ? m.fingerprint : fingerprint;
}
std::optional<std::string> SessionDescription::setup_of(const MediaSection& m) const {
  return m.setup ? m.setup : setup;
}

std::optional<std::string_view> fmtp_parameter(std::string_view fmtp, std::string_view key) {
  while (!fmtp.empty()) {
    const size_t semi = fmtp.find(';');
    std::string_view item = trim(fmtp.substr(0, semi));
    fmtp = semi == std::string_view::npos ? std::string_view{} : fmtp.substr(semi + 1);
    const size_t eq = item.find('=');
    if (eq != std::string_view::npos && trim(item.substr(0, eq)) == key) return trim(item.substr(eq + 1));
  }
  return std::nullopt;
}

Result<SessionDescription> parse_sdp(std::string_view text) {
  if (text.size() > kMaxSdpSize)
    return make_error("SDP of " + std::to_string(text.size()) + " bytes exceeds " + std::to_string(kMaxSdpSize));
  SessionDescription sd;
  MediaSection* current = nullptr;
  std::vector<PendingAttribute> pending;
  size_t line_number = 0;
  bool saw_version = false;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    ++line_number;
    if (line_number > kMaxLines) return make_error("SDP has more than " + std::to_string(kMaxLines) + " lines");
    if (line.empty()) continue;
    if (line.size() < 2 || line[1] != '=') return line_error(line_number, "not a <type>=<value> line");
    const char type = line[0];
    const std::string_view value = line.substr(2);
    if (!saw_version) {
      if (type != 'v' || value != "0") return make_error("SDP must start with v=0");
      saw_version = true;
      continue;
    }
    if (type == 'm') {
      if (current) attach_pending(*current, pending);
      if (sd.media.size() >= kMaxMediaSections)
        return make_error("SDP has more than " + std::to_string(kMaxMediaSections) + " media sections");
      sd.media.emplace_back();
      current = &sd.media.back();
      if (auto s = parse_media_line(value, line_number, *current); !s) return s.error();
      continue;
    }
    if (type != 'a') continue;
    const size_t colon = value.find(':');
    const std::string_view name = value.substr(0, colon);
    const std::string_view attr_value = colon == std::string_view::npos ? std::string_view{} : trim(value.substr(colon + 1));
    if (current) {
      if (auto s = apply_media_attribute(*current, name, attr_value, line_number, pending); !s) return s.error();
      continue;
    }
    if (name == "ice-ufrag") {
      sd.ice_ufrag = std::string(attr_value);
    } else if (name == "ice-pwd") {
      sd.ice_pwd = std::string(attr_value);
    } else if (name == "ice-lite") {
      sd.ice_lite = true;
    } else if (name == "setup") {
      sd.setup = std::string(attr_value);
    } else if (name == "fingerprint") {
      auto fp = parse_fingerprint(attr_value, line_number);
      if (!fp) return fp.error();
      keep_fingerprint(sd.fingerprint, std::move(*fp));
    } else if (name == "group") {
      std::string_view rest = attr_value;
      if (next_token(rest) == "BUNDLE") {
        sd.bundle_mids.clear();
        while (!trim(rest).empty()) {
          if (sd.bundle_mids.size() >= kMaxMediaSections) return line_error(line_number, "BUNDLE group too long");
          sd.bundle_mids.emplace_back(next_token(rest));
        }
      }
    }
  }
  if (current) attach_pending(*current, pending);
  if (!saw_version) return make_error("SDP is empty");
  return sd;
}

}  // namespace anchorcast::sdp
