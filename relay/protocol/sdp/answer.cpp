#include "relay/protocol/sdp/answer.hpp"

#include <algorithm>
#include <cctype>

#include "relay/protocol/sdp/codec_choice.hpp"

namespace anchorcast::sdp {
namespace {

bool in_bundle(const SessionDescription& offer, const std::string& mid) {
  return std::find(offer.bundle_mids.begin(), offer.bundle_mids.end(), mid) != offer.bundle_mids.end();
}

bool is_rtp_protocol(std::string_view protocol) { return protocol.find("RTP/") != std::string_view::npos; }

// RFC 8841 §4: "UDP/DTLS/SCTP" (or TCP/DTLS/SCTP) with the format "webrtc-datachannel"
// and a=sctp-port. aiortc 1.4 still offers the draft-05 form, "DTLS/SCTP <port>" with
// a=sctpmap: the SCTP port is the format; it is answered in the same form.
bool is_legacy_data_channel(const MediaSection& m) { return m.protocol == "DTLS/SCTP"; }

std::optional<uint16_t> data_channel_port(const MediaSection& m) {
  if (m.type != MediaType::application || m.port == 0 || m.formats.empty()) return std::nullopt;
  if (is_legacy_data_channel(m)) {
    const std::string& f = m.formats.front();
    if (f.empty() || f.size() > 5 || !std::all_of(f.begin(), f.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return std::nullopt;
    const unsigned long port = std::stoul(f);
    if (port == 0 || port > 65535) return std::nullopt;
    return static_cast<uint16_t>(port);
  }
  if (!m.protocol.ends_with("/DTLS/SCTP") || m.formats.front() != "webrtc-datachannel") return std::nullopt;
  return m.sctp_port.value_or(kOurSctpPort);  // RFC 8841 §5.2: 5000 when absent
}

void reject(std::string& sdp, const MediaSection& m) {
  sdp += "m=" + m.type_name + " 0 " + m.protocol + " " + (m.formats.empty() ? "0" : m.formats.front()) + "\r\n";
  sdp += "c=IN IP4 0.0.0.0\r\n";
  if (!m.mid.empty()) sdp += "a=mid:" + m.mid + "\r\n";
  sdp += "a=inactive\r\n";
}

const char* answer_direction(Direction offered) {
  // We only send: an offer that only sends, or sends nothing, gets inactive.
  return offered == Direction::sendrecv || offered == Direction::recvonly ? "sendonly" : "inactive";
}

Status check_ice_chars(const std::string& value, size_t min, const char* what) {
  if (value.size() < min || value.size() > 256) return make_error(std::string(what) + " has the wrong length");
  for (char c : value)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '/')
      return make_error(std::string(what) + " has a character outside ice-char");
  return {};
}

}  // namespace

Result<Answer> build_answer(const SessionDescription& offer, const AnswerOptions& options) {
  if (auto s = check_ice_chars(options.ice_ufrag, 4, "our ice-ufrag"); !s) return s.error();
  if (auto s = check_ice_chars(options.ice_pwd, 22, "our ice-pwd"); !s) return s.error();
  const bool ipv6 = options.candidate_ip.find(':') != std::string::npos;
  const std::string ip_kind = ipv6 ? "IP6" : "IP4";
  const std::string port = std::to_string(options.candidate_port);
  const SenderMedia& media = options.media;

  Answer answer;
  std::string body;
  std::vector<std::string> bundled;
  bool have_transport = false;
  for (const auto& m : offer.media) {
    const bool rtp = is_rtp_protocol(m.protocol) && m.port != 0;
    std::optional<H264Choice> h264;
    std::optional<uint8_t> opus;
    if (rtp && m.type == MediaType::video && media.has_video && !answer.video_payload_type)
      h264 = choose_h264(m, media.profile_level_id, media.video_payload_type);
    if (rtp && m.type == MediaType::audio && media.has_audio && !answer.audio_payload_type)
      opus = choose_opus(m, media.audio_payload_type);
    const auto sctp_port = options.data_channels && !answer.remote_sctp_port ? data_channel_port(m) : std::nullopt;
    const bool data = sctp_port.has_value();
    // A medium the stream does not have (a video-only source) but the offer could take:
    // answered inactive in the BUNDLE rather than rejected with port 0 — JSEP allows
    // both, and some stacks (aiortc 1.4) refuse a whole answer with a rejected section.
    std::optional<uint8_t> idle;
    if (!h264 && !opus && !data && rtp && !m.mid.empty() && in_bundle(offer, m.mid)) {
      if (m.type == MediaType::video && !media.has_video)
        if (auto c = choose_h264(m, media.profile_level_id, media.video_payload_type)) idle = c->payload_type;
      if (m.type == MediaType::audio && !media.has_audio) idle = choose_opus(m, media.audio_payload_type);
    }
    if (!h264 && !opus && !data && !idle) {
      reject(body, m);
      continue;
    }
    const auto ufrag = offer.ice_ufrag_of(m);
    const auto pwd = offer.ice_pwd_of(m);
    const auto fingerprint = offer.fingerprint_of(m);
    const auto setup = offer.setup_of(m);
    if (!ufrag || !pwd) return make_error("offer section '" + m.mid + "' has no a=ice-ufrag/a=ice-pwd");
    if (!fingerprint) return make_error("offer section '" + m.mid + "' has no a=fingerprint (DTLS is required)");
    if (setup && *setup == "passive")
      return make_error("offer section '" + m.mid + "' has a=setup:passive; we are the DTLS server, offer actpass");
    if (m.mid.empty()) return make_error("offer has a media section without a=mid");
    if (!have_transport) {
      answer.remote_ice_ufrag = *ufrag;
      answer.remote_ice_pwd = *pwd;
      answer.remote_fingerprint = *fingerprint;
      have_transport = true;
    }

    if (data) {
      const bool legacy = is_legacy_data_channel(m);
      const std::string ours = std::to_string(kOurSctpPort);
      body += "m=" + m.type_name + " " + port + " " + m.protocol + " " + (legacy ? ours : "webrtc-datachannel") + "\r\n";
      body += "c=IN " + ip_kind + " " + options.candidate_ip + "\r\n";
      body += "a=mid:" + m.mid + "\r\n";
      body += "a=ice-ufrag:" + options.ice_ufrag + "\r\n";
      body += "a=ice-pwd:" + options.ice_pwd + "\r\n";
      body += "a=fingerprint:sha-256 " + options.fingerprint_sha256 + "\r\n";
      body += "a=setup:passive\r\n";
      if (legacy)
        body += "a=sctpmap:" + ours + " webrtc-datachannel " + std::to_string(kOurSctpStreams) + "\r\n";
      else
        body += "a=sctp-port:" + ours + "\r\n";
      body += "a=max-message-size:" + std::to_string(kOurMaxMessageSize) + "\r\n";
      body += "a=candidate:1 1 udp 2130706431 " + options.candidate_ip + " " + port + " typ host\r\n";
      body += "a=end-of-candidates\r\n";
      answer.remote_sctp_port = sctp_port;
      answer.data_mid = m.mid;
      if (offer.bundle_mids.empty() || in_bundle(offer, m.mid)) bundled.push_back(m.mid);
      continue;
    }

    const uint8_t pt = h264 ? h264->payload_type : opus ? *opus : *idle;
    const std::string p = std::to_string(pt);
    body += "m=" + m.type_name + " " + port + " " + m.protocol + " " + p + "\r\n";
    body += "c=IN " + ip_kind + " " + options.candidate_ip + "\r\n";
    body += "a=mid:" + m.mid + "\r\n";
    body += "a=ice-ufrag:" + options.ice_ufrag + "\r\n";
    body += "a=ice-pwd:" + options.ice_pwd + "\r\n";
    body += "a=fingerprint:sha-256 " + options.fingerprint_sha256 + "\r\n";
    body += "a=setup:passive\r\n";
    body += std::string("a=") + (idle ? "inactive" : answer_direction(m.direction)) + "\r\n";
    body += "a=rtcp-mux\r\n";
    if (m.rtcp_rsize) body += "a=rtcp-rsize\r\n";
    if (idle) {
      body += "a=rtpmap:" + p + (m.type == MediaType::video ? " H264/90000\r\n" : " opus/48000/2\r\n");
      body += "a=candidate:1 1 udp 2130706431 " + options.candidate_ip + " " + port + " typ host\r\n";
      body += "a=end-of-candidates\r\n";
      bundled.push_back(m.mid);
      continue;
    }
    uint32_t ssrc = 0;
    std::string track;
    if (h264) {
      // The source's profile-level-id when the offer has that profile; else echo the
      // offered one, so the browser's codec match holds (its decoder follows the SPS).
      const std::string plid = h264->same_profile ? media.profile_level_id
                               : h264->offered_profile_level_id.empty() ? "420010"
                                                                         : h264->offered_profile_level_id;
      body += "a=rtpmap:" + p + " H264/90000\r\n";
      body += "a=rtcp-fb:" + p + " nack\r\n";
      body += "a=rtcp-fb:" + p + " nack pli\r\n";
      body += "a=rtcp-fb:" + p + " ccm fir\r\n";
      body += "a=fmtp:" + p + " level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=" + plid + "\r\n";
      answer.video_payload_type = pt;
      answer.video_mid = m.mid;
      ssrc = media.video_ssrc;
      track = media.msid_video_track;
    } else {
      body += "a=rtpmap:" + p + " opus/48000/2\r\n";
      body += "a=fmtp:" + p + " minptime=10;useinbandfec=1;stereo=1;sprop-stereo=1\r\n";
      answer.audio_payload_type = pt;
      answer.audio_mid = m.mid;
      ssrc = media.audio_ssrc;
      track = media.msid_audio_track;
    }
    const std::string s = std::to_string(ssrc);
    body += "a=msid:" + media.msid_stream + " " + track + "\r\n";
    body += "a=ssrc:" + s + " cname:" + media.cname + "\r\n";
    body += "a=ssrc:" + s + " msid:" + media.msid_stream + " " + track + "\r\n";
    body += "a=candidate:1 1 udp 2130706431 " + options.candidate_ip + " " + port + " typ host\r\n";
    body += "a=end-of-candidates\r\n";
    if (offer.bundle_mids.empty() || in_bundle(offer, m.mid)) bundled.push_back(m.mid);
  }
  if (!answer.video_payload_type && !answer.audio_payload_type)
    return make_error("the offer has neither H.264 (packetization-mode=1) video nor opus/48000/2 audio to receive");

  std::string& sdp = answer.sdp;
  sdp = "v=0\r\n";
  sdp += "o=- " + std::to_string(options.session_id) + " 2 IN IP4 127.0.0.1\r\n";
  sdp += "s=-\r\nt=0 0\r\n";
  sdp += "a=ice-lite\r\n";
  if (!offer.bundle_mids.empty() && !bundled.empty()) {
    sdp += "a=group:BUNDLE";
    for (const auto& mid : bundled) sdp += " " + mid;
    sdp += "\r\n";
  }
  sdp += "a=msid-semantic: WMS " + media.msid_stream + "\r\n";
  sdp += body;
  return answer;
}

}  // namespace anchorcast::sdp
