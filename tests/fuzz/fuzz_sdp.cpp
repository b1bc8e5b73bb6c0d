// libFuzzer target: SDP offer parsing and answer building. Invariant: every answer we
// build parses back with our own parser.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "relay/protocol/sdp/answer.hpp"
#include "relay/protocol/sdp/codec_choice.hpp"
#include "relay/protocol/sdp/session_description.hpp"

using namespace anchorcast::sdp;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto offer = parse_sdp({reinterpret_cast<const char*>(data), size});
  if (!offer.ok()) return 0;
  for (const auto& m : offer->media) {
    (void)choose_h264(m, "640c1f", 102);
    (void)choose_opus(m, 111);
    for (const auto& c : m.codecs) (void)fmtp_parameter(c.fmtp, "profile-level-id");
  }
  AnswerOptions options;
  options.ice_ufrag = "abcd";
  options.ice_pwd = "0123456789abcdefghijkl";
  options.fingerprint_sha256 = "AA:BB";
  options.candidate_ip = "127.0.0.1";
  options.candidate_port = 8000;
  options.media.cname = "c";
  options.media.msid_stream = "s";
  options.media.msid_video_track = "v";
  options.media.msid_audio_track = "a";
  auto answer = build_answer(*offer, options);
  if (answer.ok() && !parse_sdp(answer->sdp).ok()) std::abort();
  return 0;
}
