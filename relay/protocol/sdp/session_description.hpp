// A WebRTC SDP offer (RFC 8866 syntax, RFC 8829 JSEP usage) as a WHEP server reads it:
// ICE credentials, DTLS fingerprint and role, BUNDLE, and per media section the codecs
// with their fmtp and rtcp-fb, header extensions, direction, mid. Parsing is pure and
// bounded (size, lines, sections, codecs); unknown lines are skipped, as RFC 8866 §5.13
// asks of unknown attributes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "anchorcast/core/result.hpp"

namespace anchorcast::sdp {

inline constexpr size_t kMaxSdpSize = 64 * 1024;
inline constexpr size_t kMaxLines = 4096;
inline constexpr size_t kMaxMediaSections = 32;
inline constexpr size_t kMaxCodecsPerSection = 128;
inline constexpr size_t kMaxExtmapsPerSection = 64;
inline constexpr size_t kMaxFeedbackPerCodec = 16;

enum class MediaType : uint8_t { audio, video, application, other };
enum class Direction : uint8_t { sendrecv, sendonly, recvonly, inactive };

struct Fingerprint {
  std::string algorithm;  // "sha-256", lowercased
  std::string value;      // "AB:CD:..." as sent
};

struct Codec {
  uint8_t payload_type = 0;
  std::string encoding;  // as sent: "H264", "opus", "rtx"
  uint32_t clock_rate = 0;
  int channels = 1;
  std::string fmtp;                    // the parameters after "a=fmtp:<pt> ", or ""
  std::vector<std::string> feedback;   // "nack", "nack pli", "ccm fir", "transport-cc"
};

struct Extmap {
  int id = 0;
  std::string direction;  // "", "sendonly", "recvonly", ...
  std::string uri;
};

struct MediaSection {
  MediaType type = MediaType::other;
  std::string type_name;  // the m= media token as sent
  uint16_t port = 0;
  std::string protocol;                // "UDP/TLS/RTP/SAVPF", "UDP/DTLS/SCTP"
  std::vector<std::string> formats;    // the m= format tokens (payload types for RTP)
  std::string mid;
  Direction direction = Direction::sendrecv;
  bool rtcp_mux = false;
  bool rtcp_rsize = false;
  std::optional<std::string> ice_ufrag;
  std::optional<std::string> ice_pwd;
  std::optional<Fingerprint> fingerprint;
  std::optional<std::string> setup;  // "actpass", "active", "passive"
  std::vector<Codec> codecs;         // in a=rtpmap order; PTs without rtpmap are absent
  std::vector<Extmap> extmaps;
  std::optional<uint16_t> sctp_port;

  const Codec* codec(uint8_t payload_type) const;
};

struct SessionDescription {
  std::optional<std::string> ice_ufrag;
  std::optional<std::string> ice_pwd;
  std::optional<Fingerprint> fingerprint;
  std::optional<std::string> setup;
  bool ice_lite = false;
  std::vector<std::string> bundle_mids;  // a=group:BUNDLE, empty when absent
  std::vector<MediaSection> media;

  // Media-level values fall back to session-level ones (RFC 8839 §5.4, RFC 8122 §5).
  std::optional<std::string> ice_ufrag_of(const MediaSection& m) const;
  std::optional<std::string> ice_pwd_of(const MediaSection& m) const;
  std::optional<Fingerprint> fingerprint_of(const MediaSection& m) const;
  std::optional<std::string> setup_of(const MediaSection& m) const;
};

Result<SessionDescription> parse_sdp(std::string_view text);

// The value of `key` in an fmtp parameter list ("a=1;b=2", spaces allowed after ';').
std::optional<std::string_view> fmtp_parameter(std::string_view fmtp, std::string_view key);

}  // namespace anchorcast::sdp
