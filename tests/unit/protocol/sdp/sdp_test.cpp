// SDP offers from real clients (data/README.md says where each came from), answer
// generation, and the bounds of the parser.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "relay/protocol/sdp/answer.hpp"
#include "relay/protocol/sdp/codec_choice.hpp"
#include "relay/protocol/sdp/session_description.hpp"

using namespace anchorcast::sdp;

namespace {

std::string fixture(const std::string& name) {
  std::ifstream in(std::string(ANCHORCAST_TEST_DATA) + "/../unit/protocol/sdp/data/" + name, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

AnswerOptions options(std::string profile_level_id = "42e01f") {
  AnswerOptions o;
  o.ice_ufrag = "abcd";
  o.ice_pwd = "0123456789abcdefghijkl";
  o.fingerprint_sha256 = "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99";
  o.candidate_ip = "127.0.0.1";
  o.candidate_port = 8000;
  o.session_id = 42;
  o.media.video_ssrc = 1111;
  o.media.audio_ssrc = 2222;
  o.media.profile_level_id = std::move(profile_level_id);
  o.media.cname = "anchorcast";
  o.media.msid_stream = "demo";
  o.media.msid_video_track = "demo-video";
  o.media.msid_audio_track = "demo-audio";
  return o;
}

const MediaSection* section(const SessionDescription& sd, MediaType type) {
  for (const auto& m : sd.media)
    if (m.type == type) return &m;
  return nullptr;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// What any answer of ours must hold for Chromium to take it, checked by parsing it back.
void expect_usable_answer(const Answer& answer, const AnswerOptions& o) {
  auto parsed = parse_sdp(answer.sdp);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_TRUE(parsed->ice_lite);
  EXPECT_TRUE(contains(answer.sdp, "\r\n"));
  for (const auto& m : parsed->media) {
    if (m.port == 0) continue;
    EXPECT_EQ(parsed->ice_ufrag_of(m), o.ice_ufrag);
    EXPECT_EQ(parsed->ice_pwd_of(m), o.ice_pwd);
    ASSERT_TRUE(parsed->fingerprint_of(m));
    EXPECT_EQ(parsed->fingerprint_of(m)->algorithm, "sha-256");
    EXPECT_EQ(parsed->setup_of(m), "passive");
    EXPECT_TRUE(m.rtcp_mux);
    EXPECT_EQ(m.port, o.candidate_port);
    ASSERT_EQ(m.codecs.size(), 1u);
    EXPECT_EQ(std::to_string(m.codecs[0].payload_type), m.formats.at(0));
    EXPECT_NE(std::find(parsed->bundle_mids.begin(), parsed->bundle_mids.end(), m.mid), parsed->bundle_mids.end());
  }
}

}  // namespace

TEST(SdpOffer, ParsesChromiumOffer) {
  auto sd = parse_sdp(fixture("chromium_offer.sdp"));
  ASSERT_TRUE(sd.ok()) << sd.error().message;
  ASSERT_EQ(sd->media.size(), 2u);
  EXPECT_EQ(sd->bundle_mids, (std::vector<std::string>{"0", "1"}));
  const auto& video = sd->media[0];
  EXPECT_EQ(video.type, MediaType::video);
  EXPECT_EQ(video.mid, "0");
  EXPECT_EQ(video.direction, Direction::recvonly);
  EXPECT_TRUE(video.rtcp_mux);
  EXPECT_TRUE(video.rtcp_rsize);
  EXPECT_EQ(sd->ice_ufrag_of(video), "2q/E");
  EXPECT_EQ(sd->ice_pwd_of(video), "1gq7olj0HWgyP/qYWQn5tNok");
  EXPECT_EQ(sd->setup_of(video), "actpass");
  ASSERT_TRUE(sd->fingerprint_of(video));
  EXPECT_EQ(sd->fingerprint_of(video)->algorithm, "sha-256");
  EXPECT_EQ(video.extmaps.size(), 11u);
  const Codec* h264 = video.codec(102);
  ASSERT_NE(h264, nullptr);
  EXPECT_EQ(h264->encoding, "H264");
  EXPECT_EQ(h264->clock_rate, 90000u);
  EXPECT_EQ(fmtp_parameter(h264->fmtp, "profile-level-id"), "42001f");
  EXPECT_EQ(fmtp_parameter(h264->fmtp, "packetization-mode"), "1");
  EXPECT_NE(std::find(h264->feedback.begin(), h264->feedback.end(), "nack pli"), h264->feedback.end());
  const auto& audio = sd->media[1];
  EXPECT_EQ(audio.type, MediaType::audio);
  const Codec* opus = audio.codec(111);
  ASSERT_NE(opus, nullptr);
  EXPECT_EQ(opus->channels, 2);
  EXPECT_EQ(fmtp_parameter(opus->fmtp, "useinbandfec"), "1");
}

TEST(SdpOffer, ParsesFirefoxOfferWithFmtpBeforeRtpmap) {
  auto sd = parse_sdp(fixture("firefox_offer.sdp"));
  ASSERT_TRUE(sd.ok()) << sd.error().message;
  ASSERT_EQ(sd->media.size(), 2u);
  const auto* audio = section(*sd, MediaType::audio);
  const auto* video = section(*sd, MediaType::video);
  ASSERT_TRUE(audio && video);
  EXPECT_EQ(sd->fingerprint_of(*video)->value.substr(0, 5), "AA:F3");  // session level
  EXPECT_EQ(video->direction, Direction::sendrecv);
  EXPECT_EQ(video->extmaps[3].direction, "recvonly");
  const Codec* h264 = video->codec(126);
  ASSERT_NE(h264, nullptr);
  EXPECT_EQ(fmtp_parameter(h264->fmtp, "packetization-mode"), "1");
  EXPECT_EQ(h264->feedback.size(), 5u);
  EXPECT_EQ(choose_opus(*audio, 111), 109);
}

TEST(SdpOffer, ParsesAiortcOfferWithPerSectionCredentials) {
  auto sd = parse_sdp(fixture("aiortc_offer.sdp"));
  ASSERT_TRUE(sd.ok()) << sd.error().message;
  ASSERT_EQ(sd->media.size(), 2u);
  EXPECT_EQ(sd->ice_ufrag_of(sd->media[0]), "XucP");
  EXPECT_EQ(sd->ice_ufrag_of(sd->media[1]), "7eox");
  EXPECT_EQ(sd->media[0].port, 46579);
  EXPECT_EQ(choose_opus(sd->media[1], 111), 96);
}

TEST(SdpAnswer, ChromiumOfferGetsOurPayloadTypeAndTheSourceProfile) {
  auto sd = parse_sdp(fixture("chromium_offer.sdp"));
  ASSERT_TRUE(sd.ok());
  auto o = options("42e01f");
  auto answer = build_answer(*sd, o);
  ASSERT_TRUE(answer.ok()) << answer.error().message;
  // 108 is Chromium's 42e01f mode-1 PT: same profile beats our preferred 102 (42001f).
  EXPECT_EQ(answer->video_payload_type, 108);
  EXPECT_EQ(answer->audio_payload_type, 111);
  EXPECT_EQ(answer->video_mid, "0");
  EXPECT_EQ(answer->audio_mid, "1");
  EXPECT_EQ(answer->remote_ice_ufrag, "2q/E");
  const std::string& s = answer->sdp;
  EXPECT_TRUE(contains(s, "a=group:BUNDLE 0 1\r\n"));
  EXPECT_TRUE(contains(s, "a=fmtp:108 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\r\n"));
  EXPECT_TRUE(contains(s, "a=rtcp-fb:108 nack pli\r\n"));
  EXPECT_TRUE(contains(s, "a=rtcp-fb:108 ccm fir\r\n"));
  EXPECT_TRUE(contains(s, "a=ssrc:1111 cname:anchorcast\r\n"));
  EXPECT_TRUE(contains(s, "a=ssrc:2222 msid:demo demo-audio\r\n"));
  EXPECT_TRUE(contains(s, "a=candidate:1 1 udp 2130706431 127.0.0.1 8000 typ host\r\n"));
  EXPECT_TRUE(contains(s, "a=sendonly\r\n"));
  expect_usable_answer(*answer, o);
}

TEST(SdpAnswer, KeepsOurPayloadTypeWhenItCarriesTheSourceProfile) {
  auto sd = parse_sdp(fixture("chromium_offer.sdp"));
  ASSERT_TRUE(sd.ok());
  auto answer = build_answer(*sd, options("42001f"));  // Chromium's PT 102 is 42001f
  ASSERT_TRUE(answer.ok()) << answer.error().message;
  EXPECT_EQ(answer->video_payload_type, 102);
}

TEST(SdpAnswer, HighProfileSourceFallsBackToAnOfferedProfileString) {
  auto sd = parse_sdp(fixture("firefox_offer.sdp"));
  ASSERT_TRUE(sd.ok());
  auto o = options("640c1f");
  auto answer = build_answer(*sd, o);
  ASSERT_TRUE(answer.ok()) << answer.error().message;
  EXPECT_EQ(answer->video_payload_type, 126);
  EXPECT_EQ(answer->audio_payload_type, 109);
  EXPECT_TRUE(contains(answer->sdp, "profile-level-id=42e01f"));
  // Firefox lists audio first: the answer keeps the offer's section order.
  EXPECT_LT(answer->sdp.find("m=audio"), answer->sdp.find("m=video"));
  expect_usable_answer(*answer, o);
}

TEST(SdpAnswer, AiortcOfferIsAnswered) {
  auto sd = parse_sdp(fixture("aiortc_offer.sdp"));
  ASSERT_TRUE(sd.ok());
  auto o = options("640c1f");
  auto answer = build_answer(*sd, o);
  ASSERT_TRUE(answer.ok()) << answer.error().message;
  EXPECT_EQ(answer->audio_payload_type, 96);
  EXPECT_TRUE(answer->video_payload_type == 99 || answer->video_payload_type == 101);
  EXPECT_EQ(answer->remote_ice_ufrag, "XucP");
  expect_usable_answer(*answer, o);
}

TEST(SdpAnswer, RejectsADataChannelSectionWithPortZero) {
  std::string offer = fixture("chromium_offer.sdp");
  offer.replace(offer.find("a=group:BUNDLE 0 1"), 18, "a=group:BUNDLE 0 1 2");
  offer +=
      "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\na=mid:2\r\n"
      "a=sctp-port:5000\r\na=max-message-size:262144\r\n";
  auto sd = parse_sdp(offer);
  ASSERT_TRUE(sd.ok()) << sd.error().message;
  EXPECT_EQ(sd->media[2].sctp_port, 5000);
  auto answer = build_answer(*sd, options());
  ASSERT_TRUE(answer.ok()) << answer.error().message;
  EXPECT_TRUE(contains(answer->sdp, "m=application 0 UDP/DTLS/SCTP webrtc-datachannel\r\n"));
  EXPECT_TRUE(contains(answer->sdp, "a=group:BUNDLE 0 1\r\n"));
  auto parsed = parse_sdp(answer->sdp);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->media.size(), 3u);
  EXPECT_EQ(parsed->media[2].mid, "2");
}

TEST(SdpAnswer, AMediumTheStreamLacksIsAnsweredInactiveInTheBundle) {
  // A video-only source: the offered audio section stays in the BUNDLE, inactive, with
  // our ICE and DTLS attributes (aiortc refuses a whole answer with a port-0 section).
  for (const char* fixture_name : {"chromium_offer.sdp", "aiortc_offer.sdp"}) {
    auto sd = parse_sdp(fixture(fixture_name));
    ASSERT_TRUE(sd.ok());
    auto o = options("42e01f");
    o.media.has_audio = false;
    auto answer = build_answer(*sd, o);
    ASSERT_TRUE(answer.ok()) << answer.error().message;
    EXPECT_FALSE(answer->audio_payload_type) << "nothing is sent on it";
    EXPECT_TRUE(answer->video_payload_type);
    expect_usable_answer(*answer, o);
    auto parsed = parse_sdp(answer->sdp).value();
    const MediaSection* audio = section(parsed, MediaType::audio);
    ASSERT_NE(audio, nullptr);
    EXPECT_EQ(audio->port, o.candidate_port) << fixture_name;
    EXPECT_EQ(audio->direction, Direction::inactive);
    EXPECT_EQ(audio->codecs.at(0).encoding, "opus");
    EXPECT_FALSE(contains(answer->sdp, "a=ssrc:2222")) << "no audio SSRC announced";
  }
  // Audio-only: the video section likewise.
  auto sd = parse_sdp(fixture("chromium_offer.sdp")).value();
  auto o = options("42e01f");
  o.media.has_video = false;
  auto answer = build_answer(sd, o);
  ASSERT_TRUE(answer.ok()) << answer.error().message;
  EXPECT_FALSE(answer->video_payload_type);
  EXPECT_TRUE(answer->audio_payload_type);
  expect_usable_answer(*answer, o);
  EXPECT_EQ(section(parse_sdp(answer->sdp).value(), MediaType::video)->direction, Direction::inactive);
}

TEST(SdpAnswer, RefusesOffersWeCannotServe) {
  auto sd = parse_sdp(fixture("chromium_offer.sdp"));
  ASSERT_TRUE(sd.ok());
  auto no_fingerprint = *sd;
  for (auto& m : no_fingerprint.media) m.fingerprint.reset();
  EXPECT_FALSE(build_answer(no_fingerprint, options()).ok());
  auto passive = *sd;
  for (auto& m : passive.media) m.setup = "passive";
  EXPECT_FALSE(build_answer(passive, options()).ok());
  auto no_codecs = *sd;
  for (auto& m : no_codecs.media) m.codecs.clear();
  auto refused = build_answer(no_codecs, options());
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(contains(refused.error().message, "H.264"));
}

TEST(SdpOffer, RefusesOversizeAndMalformedInput) {
  EXPECT_FALSE(parse_sdp(std::string(kMaxSdpSize + 1, 'a')).ok());
  EXPECT_FALSE(parse_sdp("").ok());
  EXPECT_FALSE(parse_sdp("hello").ok());
  EXPECT_FALSE(parse_sdp("v=0\r\nm=video\r\n").ok());
  EXPECT_FALSE(parse_sdp("v=0\r\nm=video 9 RTP/AVP 96\r\na=rtpmap:200 H264/90000\r\n").ok());
  EXPECT_FALSE(parse_sdp("v=0\r\nm=video 9 RTP/AVP 96\r\na=rtpmap:96 H264\r\n").ok());
  std::string many = "v=0\r\n";
  for (size_t i = 0; i <= kMaxLines; ++i) many += "a=x\r\n";
  EXPECT_FALSE(parse_sdp(many).ok());
  std::string sections = "v=0\r\n";
  for (size_t i = 0; i <= kMaxMediaSections; ++i) sections += "m=audio 9 RTP/AVP 0\r\n";
  EXPECT_FALSE(parse_sdp(sections).ok());
}

TEST(SdpCodecChoice, ClassifiesProfiles) {
  EXPECT_EQ(h264_profile("42e01f"), H264Profile::constrained_baseline);
  EXPECT_EQ(h264_profile("42001f"), H264Profile::baseline);
  EXPECT_EQ(h264_profile("4d001f"), H264Profile::main);
  EXPECT_EQ(h264_profile("640c1f"), H264Profile::constrained_high);
  EXPECT_EQ(h264_profile("64001f"), H264Profile::high);
  EXPECT_FALSE(h264_profile("64001"));
  EXPECT_FALSE(h264_profile("zz001f"));
}

TEST(SdpCodecChoice, MainProfileSourcePicksTheOfferedMainPayloadType) {
  auto sd = parse_sdp(fixture("chromium_offer.sdp"));
  ASSERT_TRUE(sd.ok());
  auto choice = choose_h264(sd->media[0], "4d0028", 102);
  ASSERT_TRUE(choice);
  EXPECT_EQ(choice->payload_type, 116);
  EXPECT_TRUE(choice->same_profile);
}

TEST(SdpOffer, PrefersTheSha256FingerprintAmongSeveral) {
  auto sd = parse_sdp(
      "v=0\r\na=fingerprint:sha-1 AA:BB\r\na=fingerprint:SHA-256 CC:DD\r\na=fingerprint:sha-512 EE:FF\r\n"
      "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\n");
  ASSERT_TRUE(sd.ok()) << sd.error().message;
  ASSERT_TRUE(sd->fingerprint);
  EXPECT_EQ(sd->fingerprint->algorithm, "sha-256");
  EXPECT_EQ(sd->fingerprint->value, "CC:DD");
}

namespace {

// The transport lines of the offer's first section, as Chromium repeats them in each.
std::string transport_lines(const std::string& offer) {
  std::string out;
  for (const char* key : {"a=ice-ufrag:", "a=ice-pwd:", "a=fingerprint:", "a=setup:"}) {
    size_t at = offer.find(key);
    if (at != std::string::npos) out += offer.substr(at, offer.find("\r\n", at) + 2 - at);
  }
  return out;
}

std::string chromium_offer_with_data_section() {
  std::string offer = fixture("chromium_offer.sdp");
  const std::string transport = transport_lines(offer);
  offer.replace(offer.find("a=group:BUNDLE 0 1"), 18, "a=group:BUNDLE 0 1 2");
  // As Chromium writes it after createDataChannel (RFC 8841 form).
  offer +=
      "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\na=mid:2\r\n"
      "a=sctp-port:5001\r\na=max-message-size:262144\r\n" +
      transport;
  return offer;
}

AnswerOptions with_data_channels(AnswerOptions o) {
  o.data_channels = true;
  return o;
}

}  // namespace

TEST(SdpAnswer, AcceptsAnRfc8841DataChannelSectionInTheBundle) {
  auto sd = parse_sdp(chromium_offer_with_data_section());
  ASSERT_TRUE(sd.ok()) << sd.error().message;
  auto o = with_data_channels(options());
  auto answer = build_answer(*sd, o);
  ASSERT_TRUE(answer.ok()) << answer.error().message;
  EXPECT_EQ(answer->remote_sctp_port, 5001);
  EXPECT_EQ(answer->data_mid, "2");
  EXPECT_TRUE(contains(answer->sdp, "m=application 8000 UDP/DTLS/SCTP webrtc-datachannel\r\n"));
  EXPECT_TRUE(contains(answer->sdp, "a=sctp-port:5000\r\n"));
  EXPECT_TRUE(contains(answer->sdp, "a=max-message-size:262144\r\n"));
  EXPECT_TRUE(contains(answer->sdp, "a=group:BUNDLE 0 1 2\r\n"));
  auto parsed = parse_sdp(answer->sdp);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  ASSERT_EQ(parsed->media.size(), 3u);
  const MediaSection& data = parsed->media[2];
  EXPECT_EQ(data.type, MediaType::application);
  EXPECT_EQ(data.port, 8000);
  EXPECT_EQ(data.sctp_port, 5000);
  EXPECT_EQ(parsed->ice_ufrag_of(data), o.ice_ufrag);
  EXPECT_EQ(parsed->setup_of(data), "passive");
  ASSERT_TRUE(parsed->fingerprint_of(data));
  // The media sections are answered as without the data section.
  auto plain = build_answer(*parse_sdp(fixture("chromium_offer.sdp")), options());
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(answer->video_payload_type, plain->video_payload_type);
  EXPECT_EQ(answer->audio_payload_type, plain->audio_payload_type);
}

TEST(SdpAnswer, AnswersAiortcsDraftDataSectionInItsOwnForm) {
  auto sd = parse_sdp(fixture("aiortc_datachannel_offer.sdp"));
  ASSERT_TRUE(sd.ok()) << sd.error().message;
  auto answer = build_answer(*sd, with_data_channels(options("640c1f")));
  ASSERT_TRUE(answer.ok()) << answer.error().message;
  EXPECT_EQ(answer->remote_sctp_port, 5000);
  EXPECT_TRUE(contains(answer->sdp, "m=application 8000 DTLS/SCTP 5000\r\n"));
  EXPECT_TRUE(contains(answer->sdp, "a=sctpmap:5000 webrtc-datachannel 1024\r\n"));
  EXPECT_FALSE(contains(answer->sdp, "a=sctp-port"));
  EXPECT_TRUE(contains(answer->sdp, "a=group:BUNDLE 0 1 2\r\n"));
  EXPECT_EQ(answer->audio_payload_type, 96);
}

TEST(SdpAnswer, OffersWithoutADataSectionAreAnsweredAsBefore) {
  for (const char* name : {"chromium_offer.sdp", "firefox_offer.sdp", "aiortc_offer.sdp"}) {
    auto sd = parse_sdp(fixture(name));
    ASSERT_TRUE(sd.ok()) << name;
    auto without = build_answer(*sd, options("640c1f"));
    auto with = build_answer(*sd, with_data_channels(options("640c1f")));
    ASSERT_TRUE(without.ok() && with.ok()) << name;
    EXPECT_EQ(without->sdp, with->sdp) << name;
    EXPECT_FALSE(with->remote_sctp_port) << name;
  }
}

TEST(SdpAnswer, OnlyTheFirstDataSectionIsAcceptedAndBadPortsAreRejected) {
  std::string offer = chromium_offer_with_data_section();
  offer.replace(offer.find("a=group:BUNDLE 0 1 2"), 20, "a=group:BUNDLE 0 1 2 3");
  offer += "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\na=mid:3\r\na=sctp-port:5000\r\n" +
           transport_lines(offer);
  auto sd = parse_sdp(offer);
  ASSERT_TRUE(sd.ok()) << sd.error().message;
  auto answer = build_answer(*sd, with_data_channels(options()));
  ASSERT_TRUE(answer.ok()) << answer.error().message;
  EXPECT_EQ(answer->data_mid, "2");
  EXPECT_TRUE(contains(answer->sdp, "m=application 0 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\na=mid:3\r\n"));
  EXPECT_TRUE(contains(answer->sdp, "a=group:BUNDLE 0 1 2\r\n"));

  std::string legacy = fixture("aiortc_datachannel_offer.sdp");
  legacy.replace(legacy.find("DTLS/SCTP 5000"), 14, "DTLS/SCTP 99999");
  auto bad = parse_sdp(legacy);
  ASSERT_TRUE(bad.ok()) << bad.error().message;
  auto refused = build_answer(*bad, with_data_channels(options("640c1f")));
  ASSERT_TRUE(refused.ok()) << refused.error().message;
  EXPECT_FALSE(refused->remote_sctp_port);
  EXPECT_TRUE(contains(refused->sdp, "m=application 0 DTLS/SCTP 99999\r\n"));
}
