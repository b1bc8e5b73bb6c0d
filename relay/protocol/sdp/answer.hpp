// The SDP answer of a WHEP server (RFC 9725) that only sends: ICE-lite (RFC 8445 §2.5)
// with one host candidate, DTLS role passive (RFC 8842 §5.3: the offerer is actpass),
// BUNDLE on every accepted section, rtcp-mux, one H.264 and one Opus stream with our
// SSRCs. With `data_channels`, the first SCTP data channel section (RFC 8841:
// UDP/DTLS/SCTP webrtc-datachannel) is accepted on the same BUNDLE transport. Sections
// we do not serve (a second video, no usable codec, a second or legacy data section) are
// rejected with port 0 (RFC 8829 §5.3.1) and stay out of the BUNDLE group.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "anchorcast/core/result.hpp"
#include "relay/protocol/sdp/session_description.hpp"

namespace anchorcast::sdp {

// What we send, as the RTP feed fixed it.
struct SenderMedia {
  bool has_video = true;
  bool has_audio = true;
  uint8_t video_payload_type = 102;
  uint8_t audio_payload_type = 111;
  uint32_t video_ssrc = 0;
  uint32_t audio_ssrc = 0;
  std::string profile_level_id = "42e01f";  // the source's
  std::string cname;
  std::string msid_stream;
  std::string msid_video_track;
  std::string msid_audio_track;
};

struct AnswerOptions {
  std::string ice_ufrag;  // ours: 4..256 ice-chars (RFC 8839 §5.4)
  std::string ice_pwd;    // ours: 22..256 ice-chars
  std::string fingerprint_sha256;  // our certificate's, "AB:CD:..." (32 bytes)
  std::string candidate_ip;        // webrtc.public_ip, IPv4 or IPv6
  uint16_t candidate_port = 0;
  uint64_t session_id = 1;  // o= sess-id
  SenderMedia media;
  bool data_channels = false;  // answer an application (SCTP) section instead of port 0
};

inline constexpr uint16_t kOurSctpPort = 5000;           // a=sctp-port (RFC 8841 §5)
inline constexpr uint32_t kOurMaxMessageSize = 262144;  // a=max-message-size (RFC 8841 §6)
inline constexpr uint16_t kOurSctpStreams = 1024;       // the draft a=sctpmap's stream count

// What the session needs from the negotiation besides the text.
struct Answer {
  std::string sdp;
  std::optional<uint8_t> video_payload_type;  // what the viewer expects on our video SSRC
  std::optional<uint8_t> audio_payload_type;
  std::string video_mid;
  std::string audio_mid;
  std::string remote_ice_ufrag;  // of the first accepted section (the BUNDLE transport)
  std::string remote_ice_pwd;
  Fingerprint remote_fingerprint;
  // Set when the data channel section was accepted: the peer's a=sctp-port (5000 when
  // it sent none, RFC 8841 §5.2) and its mid.
  std::optional<uint16_t> remote_sctp_port;
  std::string data_mid;
};

// Fails with a message a WHEP client can act on (the 400 body) when the offer has no
// ICE credentials or fingerprint, wants us to be the DTLS client, or has neither H.264
// (packetization-mode=1) video nor Opus audio we could send.
Result<Answer> build_answer(const SessionDescription& offer, const AnswerOptions& options);

}  // namespace anchorcast::sdp
