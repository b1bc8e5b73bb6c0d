#include "relay/egress/webrtc/whep_service.hpp"

#include <openssl/rand.h>

#include "anchorcast/core/config.hpp"
#include "anchorcast/core/log.hpp"
#include "relay/protocol/sdp/answer.hpp"
#include "relay/protocol/sdp/session_description.hpp"

namespace anchorcast::webrtc {

namespace {

std::string random_hex(size_t bytes) {
  std::vector<unsigned char> r(bytes);
  if (RAND_bytes(r.data(), static_cast<int>(bytes)) != 1) return {};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : r) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

sdp::SenderMedia sender_media(const FeedDescription& d) {
  sdp::SenderMedia m;
  m.has_video = d.has_video;
  m.has_audio = d.has_audio;
  m.video_payload_type = d.video_payload_type;
  m.audio_payload_type = d.audio_payload_type;
  m.video_ssrc = d.video_ssrc;
  m.audio_ssrc = d.audio_ssrc;
  m.profile_level_id = d.profile_level_id;
  m.cname = d.cname;
  m.msid_stream = d.msid_stream;
  m.msid_video_track = d.msid_video_track;
  m.msid_audio_track = d.msid_audio_track;
  return m;
}

}  // namespace

WhepService::WhepService(Hub& hub, WebRtcServer& server, std::string public_ip, Metrics* metrics)
    : hub_(hub), server_(server), public_ip_(std::move(public_ip)), feeds_(metrics) {}

std::variant<WhepAnswer, WhepRefusal> WhepService::offer(std::string_view stream_id, Rendition rendition,
                                                         std::string_view offer_sdp) {
  std::string id(stream_id);
  if (!is_valid_stream_id(id) || !hub_.find(id)) return WhepRefusal{404, "not_found", "unknown stream '" + id + "'"};
  auto stream = hub_.find(id, rendition);
  if (!stream || !stream->live())
    return WhepRefusal{404, "not_live", "stream '" + id + "' is not live; retry when the anchor publishes"};

  auto offer = sdp::parse_sdp(offer_sdp);
  if (!offer) return WhepRefusal{400, "bad_sdp", "SDP offer: " + offer.error().message};

  auto feed = feeds_.get(stream, rendition);
  if (!feed) return WhepRefusal{404, "not_live", "stream '" + id + "' has no media yet"};
  FeedDescription description = feed->description();

  auto credentials = IceCredentials::generate();
  std::string session_id = random_hex(12);
  if (!credentials || session_id.empty()) return WhepRefusal{500, "internal", "no randomness for ICE credentials"};
  uint64_t sdp_session_id = 0;
  RAND_bytes(reinterpret_cast<unsigned char*>(&sdp_session_id), sizeof sdp_session_id);

  sdp::AnswerOptions options;
  options.ice_ufrag = credentials->ufrag;
  options.ice_pwd = credentials->pwd;
  options.fingerprint_sha256 = server_.fingerprint_sha256();
  options.candidate_ip = public_ip_;
  options.candidate_port = server_.port();
  options.session_id = (sdp_session_id >> 2) | 1;  // RFC 8866 5.2: < 2^63, non-zero
  options.media = sender_media(description);
  options.data_channels = true;  // the overlay channel (issue 7)
  auto answer = sdp::build_answer(*offer, options);
  if (!answer) return WhepRefusal{400, "bad_sdp", "SDP offer: " + answer.error().message};

  SessionSetup setup;
  setup.id = session_id;
  setup.stream_id = id;
  setup.local = std::move(*credentials);
  setup.remote_ufrag = answer->remote_ice_ufrag;
  setup.remote_fingerprint = {answer->remote_fingerprint.algorithm, answer->remote_fingerprint.value};
  setup.stream = std::move(stream);
  setup.feed = std::move(feed);
  setup.video_payload_type = answer->video_payload_type;
  setup.audio_payload_type = answer->audio_payload_type;
  setup.remote_sctp_port = answer->remote_sctp_port;
  server_.add_session(std::move(setup));
  log::info("webrtc: WHEP session ", session_id, " for '", id, "'", rendition == Rendition::source ? " (source)" : "",
            description.video == VideoDelivery::transcoded ? " (video transcoded to H.264 without B-frames)" : "");
  return WhepAnswer{std::move(session_id), std::move(answer->sdp)};
}

std::vector<WebRtcRenditionState> WhepService::renditions(std::string_view stream_id) {
  std::vector<WebRtcRenditionState> out;
  for (Rendition rendition : {Rendition::main, Rendition::source}) {
    auto stream = hub_.find(stream_id, rendition);
    if (!stream) continue;
    WebRtcRenditionState r;
    r.rendition = rendition == Rendition::source ? "source" : "main";
    if (auto feed = feeds_.state(stream.get())) {
      r.video = delivery_name(feed->video);
      r.transcoder_running = feed->transcoder_running;
    } else {
      r.video = delivery_name(expected_delivery(stream->snapshot()));
    }
    out.push_back(std::move(r));
  }
  return out;
}

bool WhepService::end(std::string_view stream_id, std::string_view session_id) {
  return server_.remove_session(std::string(stream_id), std::string(session_id));
}

}  // namespace anchorcast::webrtc
