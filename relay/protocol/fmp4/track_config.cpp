#include "relay/protocol/fmp4/track_config.hpp"

#include <limits>
#include <string>

#include "relay/protocol/aac/audio_specific_config.hpp"
#include "relay/protocol/fmp4/codecs_string.hpp"
#include "relay/protocol/h264/avc_decoder_config.hpp"
#include "relay/protocol/h264/nal_unit.hpp"
#include "relay/protocol/h264/sps.hpp"
#include "relay/protocol/hevc/hevc_decoder_config.hpp"
#include "relay/protocol/hevc/nal_unit.hpp"
#include "relay/protocol/hevc/sps.hpp"

namespace anchorcast::fmp4 {
namespace {

constexpr uint32_t kDefaultVideoDuration = kVideoTimescale / 30;
constexpr uint32_t kAacFrameSamples = 1024;  // 14496-3 §4.5.2.1.1: frameLengthFlag 0

bool picture_size_fits(int width, int height) {
  return width > 0 && height > 0 && width <= std::numeric_limits<uint16_t>::max() &&
         height <= std::numeric_limits<uint16_t>::max();
}

// What the hvc1 and avc1 sample entries share: the size check and the fields, around the
// record already rewritten for the hub's 4-byte NAL lengths (media/packet.hpp).
Result<TrackConfig> visual_track(const std::string& what, Codec codec, uint32_t track_id, int width, int height,
                                 Result<std::vector<uint8_t>> record, std::string codecs) {
  if (!picture_size_fits(width, height))
    return make_error(what + ": picture size " + std::to_string(width) + "x" + std::to_string(height) +
                      " does not fit a visual sample entry");
  if (!record) return make_error(what + ": " + record.error().message);
  TrackConfig c;
  c.track_id = track_id;
  c.kind = MediaKind::video;
  c.codec = codec;
  c.timescale = kVideoTimescale;
  c.width = static_cast<uint16_t>(width);
  c.height = static_cast<uint16_t>(height);
  c.decoder_config = std::move(*record);
  c.parameter_sets_out_of_band = true;
  c.default_sample_duration = kDefaultVideoDuration;
  c.codecs = std::move(codecs);
  return c;
}

Result<TrackConfig> make_hevc_track(const VideoTrack& track, uint32_t track_id) {
  auto record = hevc::parse_hevc_decoder_config(track.decoder_config);
  if (!record) return make_error("HEVC track: " + record.error().message);
  const std::vector<uint8_t>* sps = nullptr;
  bool has_vps = false, has_pps = false;
  for (auto& array : record->arrays) {
    const auto type = static_cast<hevc::NalType>(array.nal_type);
    const bool parameter_set = type == hevc::NalType::vps || type == hevc::NalType::sps || type == hevc::NalType::pps;
    // §8.4.1: in an hvc1 sample entry every parameter-set array is complete, the others
    // (SEI) are not.
    array.complete = parameter_set && !array.nal_units.empty();
    if (array.nal_units.empty()) continue;
    has_vps |= type == hevc::NalType::vps;
    has_pps |= type == hevc::NalType::pps;
    if (type == hevc::NalType::sps && !sps) sps = &array.nal_units.front();
  }
  if (!has_vps || !sps || !has_pps)
    return make_error(std::string("HEVC track: the decoder configuration has no ") +
                      (!has_vps ? "VPS" : !sps ? "SPS" : "PPS") +
                      "; an hvc1 sample entry must carry every parameter set");
  auto parsed = hevc::parse_sps(*sps);
  if (!parsed) return make_error("HEVC track: " + parsed.error().message);
  record->length_size = 4;  // media/packet.hpp: the hub's NAL units have 4-byte lengths
  return visual_track("HEVC track", Codec::hevc, track_id, parsed->width, parsed->height,
                      hevc::serialize_hevc_decoder_config(*record), hevc_codecs_string(record->general));
}

Result<TrackConfig> make_avc_track(const VideoTrack& track, uint32_t track_id) {
  auto record = h264::parse_avc_decoder_config(track.decoder_config);
  if (!record) return make_error("H.264 track: " + record.error().message);
  if (record->sps.empty() || record->pps.empty())
    return make_error(std::string("H.264 track: the decoder configuration has no ") +
                      (record->sps.empty() ? "SPS" : "PPS") + "; an avc1 sample entry must carry every parameter set");
  auto parsed = h264::parse_sps(record->sps.front());
  if (!parsed) return make_error("H.264 track: " + parsed.error().message);
  record->length_size = 4;
  return visual_track("H.264 track", Codec::h264, track_id, parsed->width, parsed->height,
                      h264::serialize_avc_decoder_config(*record),
                      avc_codecs_string(record->profile_idc, record->profile_compatibility, record->level_idc));
}

}  // namespace

Result<TrackConfig> make_video_track(const VideoTrack& track, uint32_t track_id) {
  switch (track.codec) {
    case Codec::hevc:
      return make_hevc_track(track, track_id);
    case Codec::h264:
      return make_avc_track(track, track_id);
    default:
      return make_error("video track: only H.264 and HEVC have an fMP4 sample entry here");
  }
}

Result<TrackConfig> make_audio_track(const AudioTrack& track, uint32_t track_id) {
  if (track.codec != Codec::aac)
    return make_error("audio track: only AAC has an fMP4 sample entry here");
  auto asc = aac::parse_audio_specific_config(track.decoder_config);
  if (!asc) return make_error("AAC track: " + asc.error().message);
  const uint32_t rate = asc->output_sample_rate();
  if (rate == 0 || asc->sample_rate == 0) return make_error("AAC track: the AudioSpecificConfig has no sample rate");
  int channels = asc->channels();
  if (channels == 0) channels = track.channels;  // a program_config_element: the publisher's count
  if (channels <= 0 || channels > 255) return make_error("AAC track: unknown channel count");
  TrackConfig c;
  c.track_id = track_id;
  c.kind = MediaKind::audio;
  c.codec = Codec::aac;
  c.timescale = rate;
  c.sample_rate = rate;
  c.channels = static_cast<uint16_t>(channels);
  c.decoder_config = track.decoder_config;
  // With SBR a frame of 1024 core samples decodes to 2048 output samples.
  c.default_sample_duration = static_cast<uint32_t>(uint64_t{kAacFrameSamples} * rate / asc->sample_rate);
  c.codecs = aac_codecs_string(*asc);
  return c;
}

bool is_parameter_set(Codec codec, std::span<const uint8_t> nal) {
  if (nal.empty()) return false;
  if (codec == Codec::hevc) {
    const auto t = hevc::nal_type(nal[0]);
    return t == hevc::NalType::vps || t == hevc::NalType::sps || t == hevc::NalType::pps;
  }
  if (codec == Codec::h264) {
    const auto t = h264::nal_type(nal[0]);
    return t == h264::NalType::sps || t == h264::NalType::pps || t == h264::NalType::sps_extension;
  }
  return false;
}

}  // namespace anchorcast::fmp4
