#include "relay/protocol/mpegts/ts_muxer.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <string>

#include "relay/protocol/aac/adts.hpp"
#include "relay/protocol/h264/annexb.hpp"
#include "relay/protocol/h264/avc_decoder_config.hpp"
#include "relay/protocol/hevc/annexb.hpp"
#include "relay/protocol/hevc/hevc_decoder_config.hpp"
#include "relay/protocol/mpegts/pes_header.hpp"

namespace anchorcast::mpegts {
namespace {

constexpr size_t kTsHeaderSize = 4;
constexpr size_t kTsPayloadMax = kPacketSize - kTsHeaderSize;
constexpr size_t kPcrSize = 6;

// §2.4.3.5: program_clock_reference_base (33 bits, 90 kHz), 6 reserved bits, extension
// (9 bits of 27 MHz, 0 here: our clock is the 90 kHz DTS).
void write_pcr(uint8_t* p, int64_t pcr_90khz) {
  const uint64_t base = to_33_bits(pcr_90khz);
  p[0] = static_cast<uint8_t>(base >> 25);
  p[1] = static_cast<uint8_t>(base >> 17);
  p[2] = static_cast<uint8_t>(base >> 9);
  p[3] = static_cast<uint8_t>(base >> 1);
  p[4] = static_cast<uint8_t>(((base & 1) << 7) | 0x7E);
  p[5] = 0x00;
}

// H.222.0 §2.6.58 metadata_pointer_descriptor as Apple's spec fills it: application
// format 0xFFFF + "ID3 ", metadata format 0xFF + "ID3 ", service 0, no locator record,
// MPEG_carriage_flags 0 (same TS), program_number.
std::array<uint8_t, 17> metadata_pointer_descriptor(uint16_t program_number) {
  return {0x25, 15,  0xFF, 0xFF, 'I',  'D', '3', ' ', 0xFF, 'I', 'D', '3', ' ', 0x00, 0x1F,
          static_cast<uint8_t>(program_number >> 8), static_cast<uint8_t>(program_number)};
}

// §2.6.60 metadata_descriptor: the same identifiers, service 0, decoder_config_flags 0,
// no DSM-CC, reserved bits set.
constexpr std::array<uint8_t, 15> kMetadataDescriptor = {0x26, 13,  0xFF, 0xFF, 'I', 'D', '3', ' ',
                                                         0xFF, 'I', 'D',  '3',  ' ', 0x00, 0x0F};

}  // namespace

TsMuxer::TsMuxer(TsMuxerOptions options) : options_(options) {}

Status TsMuxer::set_tracks(const TrackSet& tracks) {
  const bool had_video = has_video_;
  const bool had_audio = has_audio_;
  const Codec had_codec = video_codec_;
  has_video_ = false;
  has_audio_ = false;
  Status result;
  if (tracks.video && tracks.video->codec == Codec::h264) {
    auto config = h264::parse_avc_decoder_config(tracks.video->decoder_config);
    if (config) {
      has_video_ = true;
      video_codec_ = Codec::h264;
      nal_length_size_ = config->length_size;
      parameter_sets_ = h264::parameter_sets_annexb(*config);
    } else {
      result = make_error("video track left out of the TS: " + config.error().message);
    }
  } else if (tracks.video && tracks.video->codec == Codec::hevc) {
    auto config = hevc::parse_hevc_decoder_config(tracks.video->decoder_config);
    if (config) {
      has_video_ = true;
      video_codec_ = Codec::hevc;
      nal_length_size_ = config->length_size;
      parameter_sets_ = hevc::parameter_sets_annexb(*config);
    } else {
      result = make_error("video track left out of the TS: " + config.error().message);
    }
  }
  if (tracks.audio && tracks.audio->codec == Codec::aac) {
    auto asc = aac::parse_audio_specific_config(tracks.audio->decoder_config);
    // ADTS must be able to carry it (checked once here, not per frame).
    if (asc && !aac::build_adts_header(*asc, 0).ok())
      asc = make_error(aac::build_adts_header(*asc, 0).error().message);
    if (asc) {
      has_audio_ = true;
      asc_ = *asc;
    } else if (result.ok()) {
      result = make_error("audio track left out of the TS: " + asc.error().message);
    }
  }
  const bool video_type_changed = had_video && has_video_ && had_codec != video_codec_;
  if (tables_written_once_ && (had_video != has_video_ || had_audio != has_audio_ || video_type_changed))
    pmt_version_ = static_cast<uint8_t>((pmt_version_ + 1) & 0x1F);  // §2.4.4.9: a new PMT
  return result;
}

void TsMuxer::set_timed_metadata(bool on) {
  if (on == options_.timed_metadata) return;
  options_.timed_metadata = on;
  if (tables_written_once_) pmt_version_ = static_cast<uint8_t>((pmt_version_ + 1) & 0x1F);  // §2.4.4.9
}

void TsMuxer::write_tables(std::vector<uint8_t>& out) {
  tables_written_once_ = true;
  const size_t at = out.size();
  out.resize(at + 2 * kPacketSize);
  write_pat_packet(options_.transport_stream_id, options_.program_number, options_.pmt_pid, 0, cc_pat_,
                   std::span<uint8_t, kPacketSize>(out.data() + at, kPacketSize));
  cc_pat_ = (cc_pat_ + 1) & 0x0F;
  std::array<PmtStream, 3> streams;
  size_t n = 0;
  if (has_video_)
    streams[n++] = {video_codec_ == Codec::hevc ? kStreamTypeHevc : kStreamTypeH264, options_.video_pid, {}};
  if (has_audio_) streams[n++] = {kStreamTypeAdtsAac, options_.audio_pid, {}};
  const auto pointer = metadata_pointer_descriptor(options_.program_number);
  std::span<const uint8_t> program_info;
  if (options_.timed_metadata) {
    streams[n++] = {kStreamTypeMetadataPes, options_.metadata_pid, kMetadataDescriptor};
    program_info = pointer;
  }
  // §2.4.4.9: PCR_PID 0x1FFF when no PCR is carried (a program with no streams yet).
  const uint16_t pcr_pid = has_video_ ? options_.video_pid : has_audio_ ? options_.audio_pid : 0x1FFF;
  write_pmt_packet(options_.pmt_pid, options_.program_number, pmt_version_, pcr_pid,
                   std::span<const PmtStream>(streams.data(), n), cc_pmt_,
                   std::span<uint8_t, kPacketSize>(out.data() + at + kPacketSize, kPacketSize), program_info);
  cc_pmt_ = (cc_pmt_ + 1) & 0x0F;
}

Status TsMuxer::write_packet(const Packet& packet, std::vector<uint8_t>& out) {
  const int64_t pts = packet.pts_in(k90kHz);
  const int64_t dts = packet.dts_in(k90kHz);
  std::array<uint8_t, kMaxPesHeaderSize> header;
  std::array<uint8_t, aac::kAdtsHeaderSize> adts;
  if (packet.kind == MediaKind::video) {
    if (!has_video_ || packet.codec != video_codec_)
      return make_error(packet.codec == Codec::hevc ? "TS muxer has no HEVC track for this packet"
                                                    : "TS muxer has no H.264 track for this packet");
    if (video_codec_ == Codec::hevc) {
      const hevc::AnnexBOptions annexb{.insert_aud = true, .parameter_sets = parameter_sets_};
      if (auto s = hevc::annexb_pieces(packet.bytes(), nal_length_size_, annexb, pieces_); !s) return s;
    } else {
      const h264::AnnexBOptions annexb{.insert_aud = true, .parameter_sets = parameter_sets_};
      if (auto s = h264::annexb_pieces(packet.bytes(), nal_length_size_, annexb, pieces_); !s) return s;
    }
    size_t payload = 0;
    for (auto piece : pieces_) payload += piece.size();
    const size_t header_size = write_pes_header(kStreamIdVideo, pts, dts, payload, true, header);
    int64_t pcr = dts - options_.pcr_delay_90khz;
    if (pcr < 0 && dts >= 0) pcr = 0;
    write_pes(options_.video_pid, cc_video_, std::span<const uint8_t>(header.data(), header_size), packet.keyframe,
              true, pcr, out);
    return {};
  }
  if (!has_audio_ || packet.codec != Codec::aac) return make_error("TS muxer has no AAC track for this packet");
  auto built = aac::build_adts_header(asc_, packet.bytes().size());
  if (!built) return built.error();
  adts = *built;
  pieces_.clear();
  pieces_.emplace_back(adts);
  pieces_.push_back(packet.bytes());
  const size_t header_size =
      write_pes_header(kStreamIdAudio, pts, dts, adts.size() + packet.bytes().size(), false, header);
  // Audio-only programs carry the PCR on the audio PID.
  int64_t pcr = dts - options_.pcr_delay_90khz;
  if (pcr < 0 && dts >= 0) pcr = 0;
  write_pes(options_.audio_pid, cc_audio_, std::span<const uint8_t>(header.data(), header_size), packet.keyframe,
            !has_video_, pcr, out);
  return {};
}

Status TsMuxer::write_timed_metadata(int64_t pts_90khz, std::span<const uint8_t> id3_tag,
                                    std::vector<uint8_t>& out) {
  if (!options_.timed_metadata) return make_error("TS muxer has no timed metadata stream");
  if (id3_tag.size() > kMaxTimedMetadataSize)
    return make_error("timed metadata of " + std::to_string(id3_tag.size()) + " bytes does not fit one PES (max " +
                      std::to_string(kMaxTimedMetadataSize) + ")");
  std::array<uint8_t, kMaxPesHeaderSize> header;
  const size_t header_size = write_pes_header(kStreamIdPrivate1, pts_90khz, pts_90khz, id3_tag.size(), false, header);
  pieces_.clear();
  pieces_.push_back(id3_tag);
  write_pes(options_.metadata_pid, cc_metadata_, std::span<const uint8_t>(header.data(), header_size), false, false, 0,
            out);
  return {};
}

// Splits PES header + pieces_ over TS packets (§2.4.3.2). The first packet sets
// payload_unit_start_indicator and carries, in its adaptation field, the PCR and the
// random_access_indicator (§2.4.3.5: "the next PES packet ... contains ... an elementary
// stream access point"); the last packet is padded with adaptation field stuffing
// (§2.4.3.5: the only padding allowed in TS packets carrying PES).
void TsMuxer::write_pes(uint16_t pid, uint8_t& cc, std::span<const uint8_t> pes_header, bool random_access,
                        bool with_pcr, int64_t pcr_90khz, std::vector<uint8_t>& out) {
  size_t remaining = pes_header.size();
  for (auto piece : pieces_) remaining += piece.size();
  // Gather cursor: index -1 is the PES header, then pieces_.
  long piece = -1;
  size_t offset = 0;
  auto current = [&]() -> std::span<const uint8_t> {
    return piece < 0 ? pes_header : pieces_[static_cast<size_t>(piece)];
  };
  bool first = true;
  while (remaining > 0) {
    const size_t at = out.size();
    out.resize(at + kPacketSize);
    uint8_t* p = out.data() + at;

    uint8_t flags = 0;
    if (first && random_access) flags |= 0x40;
    const bool pcr_here = first && with_pcr;
    if (pcr_here) flags |= 0x10;
    // Adaptation field size in bytes, its length byte included (0 = none).
    size_t af_size = flags ? 2 + (pcr_here ? kPcrSize : 0) : 0;
    size_t room = kTsPayloadMax - af_size;
    if (remaining < room) {
      // Stuff: grow (or create) the adaptation field so the payload ends the packet.
      af_size += room - remaining;
      room = remaining;
    }
    p[0] = 0x47;
    p[1] = static_cast<uint8_t>((first ? 0x40 : 0x00) | ((pid >> 8) & 0x1F));
    p[2] = static_cast<uint8_t>(pid);
    p[3] = static_cast<uint8_t>((af_size ? 0x30 : 0x10) | cc);
    cc = (cc + 1) & 0x0F;  // §2.4.3.3: increments with every packet that has payload
    size_t pos = kTsHeaderSize;
    if (af_size > 0) {
      p[pos] = static_cast<uint8_t>(af_size - 1);  // adaptation_field_length
      if (af_size > 1) {
        p[pos + 1] = flags;
        size_t q = pos + 2;
        if (pcr_here) {
          write_pcr(p + q, pcr_90khz);
          q += kPcrSize;
        }
        std::memset(p + q, 0xFF, pos + af_size - q);  // stuffing_byte
      }
      pos += af_size;
    }
    // Payload: copy `room` bytes from the gather list.
    size_t left = room;
    while (left > 0) {
      auto src = current();
      const size_t n = std::min(left, src.size() - offset);
      std::memcpy(p + pos, src.data() + offset, n);
      pos += n;
      offset += n;
      left -= n;
      if (offset == src.size()) {
        ++piece;
        offset = 0;
      }
    }
    remaining -= room;
    first = false;
  }
}

}  // namespace anchorcast::mpegts
