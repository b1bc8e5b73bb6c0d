// MPEG-TS muxer (ITU-T H.222.0) for HLS and anything else that wants a TS: one program,
// H.264 (stream type 0x1B, Annex B with an AUD per access unit and SPS/PPS before every
// IDR, §2.14) or HEVC (0x24, the same with VPS/SPS/PPS before every IRAP, §2.17) and
// AAC (0x0F, ADTS), PCR on the video PID (the audio PID when there is no video), one PES
// per access unit, the random_access_indicator on keyframes.
// Timestamps are the packets' own, in 90 kHz, so a TS time equals the hub's timeline
// time (mod 2^33). With `timed_metadata`, the program also has an ID3 timed metadata
// stream (0x15, Apple's "Timed Metadata for HTTP Live Streaming"). Pure: bytes are appended to a caller-owned buffer; once the buffer
// and the muxer's scratch space have grown, muxing allocates nothing.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "anchorcast/core/result.hpp"
#include "anchorcast/media/packet.hpp"
#include "anchorcast/media/track.hpp"
#include "relay/protocol/aac/audio_specific_config.hpp"
#include "relay/protocol/mpegts/psi_tables.hpp"

namespace anchorcast::mpegts {

inline constexpr uint8_t kStreamTypeH264 = 0x1B;
inline constexpr uint8_t kStreamTypeHevc = 0x24;  // Table 2-34, H.222.0 Amd. 3
inline constexpr uint8_t kStreamTypeAdtsAac = 0x0F;
inline constexpr uint8_t kStreamTypeMetadataPes = 0x15;  // Table 2-34: metadata carried in PES
inline constexpr uint8_t kStreamIdPrivate1 = 0xBD;       // Apple timed metadata: private_stream_1
// Apple timed metadata §"Metadata Stream Identification": the ID3 stream is announced by
// a metadata_pointer_descriptor in the program info and a metadata_descriptor on the
// stream (H.222.0 §2.6.58, §2.6.60), both with format_identifier "ID3 ".
inline constexpr size_t kMaxTimedMetadataSize = 0xFFFF - 8;  // one bounded PES: 16-bit length

struct TsMuxerOptions {
  uint16_t transport_stream_id = 1;
  uint16_t program_number = 1;
  uint16_t pmt_pid = 0x1000;  // the PIDs FFmpeg's mpegts muxer uses, familiar in dumps
  uint16_t video_pid = 0x100;
  uint16_t audio_pid = 0x101;
  uint16_t metadata_pid = 0x102;
  bool timed_metadata = false;  // carry an ID3 stream (write_timed_metadata)
  // PCR runs this far behind DTS so a T-STD decoder has buffering time (§2.4.2; FFmpeg's
  // default max_delay of 0.7 s). Clamped at 0 at the start of a timeline.
  int64_t pcr_delay_90khz = 63000;
};

class TsMuxer {
 public:
  explicit TsMuxer(TsMuxerOptions options = {});

  // Takes the H.264 or HEVC and the AAC tracks (other codecs are left out of the
  // program). Fails, naming the track, when a decoder configuration does not parse; that
  // track is then left out and the other is kept. The PMT version moves on when the
  // streams change.
  Status set_tracks(const TrackSet& tracks);
  bool has_video() const { return has_video_; }
  bool has_audio() const { return has_audio_; }
  // Adds or removes the timed metadata stream (a new PMT version when it changes).
  void set_timed_metadata(bool on);
  bool timed_metadata() const { return options_.timed_metadata; }

  // PAT + PMT: two TS packets. A TS that a player may join here (an HLS segment) starts
  // with them.
  void write_tables(std::vector<uint8_t>& out);

  // One access unit as one PES. Fails (writing nothing) for a packet whose track is not
  // in the program or whose payload does not parse (bad AVCC/hvcC lengths or HEVC NAL
  // headers, AAC frame too big for ADTS).
  Status write_packet(const Packet& packet, std::vector<uint8_t>& out);

  // One ID3 tag as one PES (stream_id 0xBD, PTS only) on the metadata PID. Fails when
  // the muxer has no metadata stream or the tag exceeds kMaxTimedMetadataSize.
  Status write_timed_metadata(int64_t pts_90khz, std::span<const uint8_t> id3_tag, std::vector<uint8_t>& out);

 private:
  void write_pes(uint16_t pid, uint8_t& cc, std::span<const uint8_t> pes_header, bool random_access,
                 bool with_pcr, int64_t pcr_90khz, std::vector<uint8_t>& out);

  TsMuxerOptions options_;
  bool has_video_ = false;
  bool has_audio_ = false;
  Codec video_codec_ = Codec::h264;  // h264 or hevc, when has_video_
  int nal_length_size_ = 4;
  // Annex B SPS + PPS (H.264) or VPS + SPS + PPS (HEVC), put before each IDR / IRAP.
  std::vector<uint8_t> parameter_sets_;
  aac::AudioSpecificConfig asc_;
  uint8_t pmt_version_ = 0;
  bool tables_written_once_ = false;
  uint8_t cc_pat_ = 0, cc_pmt_ = 0, cc_video_ = 0, cc_audio_ = 0, cc_metadata_ = 0;
  std::vector<std::span<const uint8_t>> pieces_;  // reused gather list of the PES payload
};

}  // namespace anchorcast::mpegts
