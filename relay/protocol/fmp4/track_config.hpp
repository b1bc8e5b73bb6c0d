// One track of a fragmented MP4 (ISO/IEC 14496-12 §8.8) made from a hub track: what its
// sample entry says and how its samples are written. Video is `hvc1` + `hvcC` for HEVC
// (14496-15 §8.4.1) or `avc1` + `avcC` for H.264 (§5.4.2); audio is `mp4a` + `esds` for
// AAC (14496-14 §5.6). The hub's access units are 4-byte length-prefixed NAL units and
// raw AAC frames, which are exactly those sample formats.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "anchorcast/core/result.hpp"
#include "anchorcast/media/packet.hpp"
#include "anchorcast/media/track.hpp"

namespace anchorcast::fmp4 {

inline constexpr uint32_t kVideoTrackId = 1;
inline constexpr uint32_t kAudioTrackId = 2;
// 90 kHz: the MPEG timescale, so sample times equal the hub's 90 kHz times exactly.
inline constexpr uint32_t kVideoTimescale = 90000;

struct TrackConfig {
  uint32_t track_id = 0;
  MediaKind kind = MediaKind::video;
  Codec codec = Codec::hevc;
  uint32_t timescale = 0;  // video 90 kHz, audio its output sample rate
  // Video: the displayed picture (luma samples after cropping), from the SPS.
  uint16_t width = 0;
  uint16_t height = 0;
  // Audio.
  uint16_t channels = 0;
  uint32_t sample_rate = 0;
  // The body of the sample entry's configuration box: the hvcC or avcC record rewritten
  // for the sample entry (4-byte NAL lengths; hvc1: parameter-set arrays complete), or
  // the AudioSpecificConfig.
  std::vector<uint8_t> decoder_config;
  // avc1/hvc1 (14496-15 §5.4.2, §8.4.1): parameter sets live in the sample entry only, so
  // those a publisher repeats in band are left out of the samples.
  bool parameter_sets_out_of_band = false;
  // How long the last sample of a fragment lasts when nothing says: 1/30 s of video, one
  // AAC frame of audio.
  uint32_t default_sample_duration = 0;
  std::string codecs;  // the CODECS attribute entry, "hvc1.1.6.L60.90", "mp4a.40.2"
};

// Fails, naming what is wrong, when the decoder configuration does not parse, lacks a
// parameter set the sample entry needs, or the codec has no sample entry here.
Result<TrackConfig> make_video_track(const VideoTrack& track, uint32_t track_id = kVideoTrackId);
Result<TrackConfig> make_audio_track(const AudioTrack& track, uint32_t track_id = kAudioTrackId);

// True for a NAL unit that an avc1/hvc1 sample leaves out (VPS, SPS, PPS; H.264 SPS
// extension). `nal` is a whole unit with its header.
bool is_parameter_set(Codec codec, std::span<const uint8_t> nal);

}  // namespace anchorcast::fmp4
