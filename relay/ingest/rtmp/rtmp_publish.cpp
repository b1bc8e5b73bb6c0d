#include "relay/ingest/rtmp/rtmp_publish.hpp"

#include "anchorcast/core/log.hpp"
#include "relay/protocol/aac/audio_specific_config.hpp"
#include "relay/protocol/flv/audio_tag.hpp"
#include "relay/protocol/flv/ex_video_tag.hpp"
#include "relay/protocol/flv/video_tag.hpp"
#include "relay/protocol/h264/avc_decoder_config.hpp"
#include "relay/protocol/h264/sps.hpp"
#include "relay/protocol/hevc/hevc_decoder_config.hpp"
#include "relay/protocol/hevc/nal_unit.hpp"
#include "relay/protocol/hevc/sps.hpp"

namespace anchorcast {

RtmpPublish::RtmpPublish(std::unique_ptr<StreamPublisher> publisher, std::string label)
    : publisher_(std::move(publisher)), label_(std::move(label)) {}

void RtmpPublish::on_metadata(const rtmp::Amf0Value& metadata) {
  if (metadata.has_properties()) metadata_ = metadata;
}

// Viewers need one complete TrackSet, so tracks are announced at the first media packet
// (encoders send both sequence headers before it) and again only when one changes.
void RtmpPublish::announce_if_changed() {
  if (!changed_) return;
  changed_ = false;
  TrackSet tracks;
  tracks.video = video_;
  tracks.audio = audio_;
  if (tracks.video) {
    VideoTrack& v = *tracks.video;
    if (v.width <= 0 || v.height <= 0) {
      v.width = static_cast<int>(metadata_.get_number("width").value_or(0));
      v.height = static_cast<int>(metadata_.get_number("height").value_or(0));
    }
    if (v.fps <= 0) {
      // OBS and ffmpeg write "framerate"; some older encoders "fps".
      v.fps = metadata_.get_number("framerate").value_or(metadata_.get_number("fps").value_or(0));
    }
  }
  if (tracks.audio) {
    AudioTrack& a = *tracks.audio;
    if (a.sample_rate <= 0) a.sample_rate = static_cast<int>(metadata_.get_number("audiosamplerate").value_or(0));
    if (a.channels <= 0) {
      if (auto n = metadata_.get_number("audiochannels")) a.channels = static_cast<int>(*n);
      else if (auto stereo = metadata_.get_boolean("stereo")) a.channels = *stereo ? 2 : 1;
    }
  }
  announced_ = tracks;
  publisher_->set_tracks(std::move(tracks));
}

void RtmpPublish::warn_once(bool& flag, const std::string& what) {
  if (!flag) log::warn(label_, ": ", what);
  flag = true;
}

Status RtmpPublish::on_video(uint32_t timestamp_ms, std::vector<uint8_t> body) {
  if (body.empty()) return {};  // some encoders send empty video messages as keep-alives
  if (flv::is_ex_video_tag_body(body)) return on_ex_video(timestamp_ms, std::move(body));
  auto tag = flv::parse_video_tag_body(body);
  if (!tag) return tag.error();
  if (tag->frame_type == flv::VideoFrameType::command) return {};  // E.4.3.1: not a frame
  if (!tag->is_avc()) {
    if (!warned_video_)
      log::warn(label_, ": video codec id ", static_cast<int>(tag->codec_id),
                " is not supported (H.264, or HEVC over Enhanced RTMP); dropping video");
    warned_video_ = true;
    return {};
  }
  switch (tag->avc_packet_type) {
    case flv::AvcPacketType::sequence_header: {
      auto config = h264::parse_avc_decoder_config(tag->data);
      if (!config) return make_error("bad AVC sequence header: " + config.error().message);
      VideoTrack v;
      v.codec = Codec::h264;
      v.decoder_config.assign(tag->data.begin(), tag->data.end());
      if (!config->sps.empty()) {
        if (auto sps = h264::parse_sps(config->sps.front())) {
          v.width = sps->width;
          v.height = sps->height;
          v.fps = sps->fps;
        }
      }
      if (!video_ || *video_ != v) changed_ = true;
      video_ = std::move(v);
      return {};
    }
    case flv::AvcPacketType::end_of_sequence:
      return {};  // ffmpeg sends it when it stops; the connection close says the same
    case flv::AvcPacketType::nalu:
      break;
  }
  // Undecodable without its sequence header (an HEVC record does not describe AVC frames).
  if (!video_ || video_->codec != Codec::h264) return {};
  announce_if_changed();
  auto packet = flv::video_packet_from_tag(*tag, timestamp_ms, std::move(body));
  if (!packet) return packet.error();
  if (packet->bytes().empty()) return {};
  ++packets_;
  publisher_->push(std::move(*packet));
  return {};
}

// Enhanced RTMP v1 ("Defining Additional Video Codecs"): OBS >= 29.1 and FFmpeg >= 6.1
// send HEVC this way; SequenceStart carries the hvcC, coded frames the access units.
Status RtmpPublish::on_ex_video(uint32_t timestamp_ms, std::vector<uint8_t> body) {
  if (flv::uses_v2_packet_type(body)) {
    // We announce no capsEx, so a v2 encoder should not send these; drop, do not fail.
    warn_once(warned_video_, "Enhanced RTMP v2 video (Multitrack/ModEx packets) is not supported; dropping video");
    return {};
  }
  auto tag = flv::parse_ex_video_tag_body(body);
  if (!tag) return tag.error();
  if (tag->is_command()) return {};  // FLV E.4.3.1 command frame: not a picture
  if (tag->packet_type == flv::ExVideoPacketType::metadata) {
    // v1 "Metadata Frame": colorInfo (HDR); the relay passes the bitstream through and
    // has no HDR signalling of its own to fill.
    warn_once(warned_ignored_, "Enhanced RTMP video metadata (colorInfo) is ignored");
    return {};
  }
  if (!tag->is_hevc()) {
    warn_once(warned_video_, "video FourCC " + flv::fourcc_name(tag->fourcc) +
                                 " is not supported (H.264, or HEVC as 'hvc1'); dropping video");
    return {};
  }
  switch (tag->packet_type) {
    case flv::ExVideoPacketType::sequence_start:
      return on_hevc_sequence_start(tag->data);
    case flv::ExVideoPacketType::sequence_end:
      log::debug(label_, ": HEVC sequence end");  // the connection close says the same
      return {};
    case flv::ExVideoPacketType::mpeg2ts_sequence_start:
      // v1 defines it for AV1 only (AV1VideoDescriptor); nothing to take from it for HEVC.
      warn_once(warned_ignored_, "Enhanced RTMP MPEG2TSSequenceStart for HEVC is ignored");
      return {};
    default:
      break;  // coded frames
  }
  if (!video_ || video_->codec != Codec::hevc) return {};  // undecodable without its hvcC
  announce_if_changed();
  auto packet = flv::hevc_packet_from_ex_tag(*tag, timestamp_ms, hevc_length_size_, std::move(body));
  if (!packet) return packet.error();
  if (packet->bytes().empty()) return {};
  // The frame type is the encoder's word; the NAL unit types are the bitstream's. A
  // viewer can only start on an IRAP picture (H.265 8.1), so those decide. The walk
  // checks every length and NAL header too: a few units per frame.
  auto irap = hevc::is_keyframe_access_unit(packet->bytes(), 4);
  if (!irap) return make_error("bad HEVC access unit: " + irap.error().message);
  if (*irap != packet->keyframe) {
    warn_once(warned_keyframe_, std::string("HEVC frame type says ") + (packet->keyframe ? "key" : "inter") +
                                    " but the access unit " + (*irap ? "has" : "has no") +
                                    " IRAP picture; following the NAL unit types");
    packet->keyframe = *irap;
  }
  ++packets_;
  publisher_->push(std::move(*packet));
  return {};
}

Status RtmpPublish::on_hevc_sequence_start(std::span<const uint8_t> record) {
  auto config = hevc::parse_hevc_decoder_config(record);
  if (!config) return make_error("bad HEVC sequence start (hvcC): " + config.error().message);
  VideoTrack v;
  v.codec = Codec::hevc;
  if (config->length_size == 4) {
    v.decoder_config.assign(record.begin(), record.end());
  } else {
    // The packets get 4-byte lengths (hevc_packet_from_ex_tag), so the record viewers
    // get must say so.
    hevc::HevcDecoderConfig four = *config;
    four.length_size = 4;
    auto bytes = hevc::serialize_hevc_decoder_config(four);
    if (!bytes) return make_error("HEVC sequence start (hvcC): " + bytes.error().message);
    v.decoder_config = std::move(*bytes);
  }
  for (const auto& array : config->arrays) {
    if (array.nal_type != static_cast<uint8_t>(hevc::NalType::sps) || array.nal_units.empty()) continue;
    if (auto sps = hevc::parse_sps(array.nal_units.front())) {
      v.width = sps->width;
      v.height = sps->height;
    }
    break;
  }
  // avgFrameRate is in frames per 256 s (14496-15 8.3.3.1.3); 0 (x265, OBS) leaves it to onMetaData.
  if (config->avg_frame_rate > 0) v.fps = config->avg_frame_rate / 256.0;
  if (!video_ || *video_ != v) changed_ = true;
  video_ = std::move(v);
  hevc_length_size_ = config->length_size;
  return {};
}

Status RtmpPublish::on_audio(uint32_t timestamp_ms, std::vector<uint8_t> body) {
  if (body.empty()) return {};
  auto tag = flv::parse_audio_tag_body(body);
  if (!tag) return tag.error();
  if (!tag->is_aac()) {
    if (!warned_audio_)
      log::warn(label_, ": audio format ", static_cast<int>(tag->format), " is not supported (AAC only); dropping audio");
    warned_audio_ = true;
    return {};
  }
  if (tag->aac_packet_type == flv::AacPacketType::sequence_header) {
    auto asc = aac::parse_audio_specific_config(tag->data);
    if (!asc) return make_error("bad AAC sequence header: " + asc.error().message);
    AudioTrack a;
    a.codec = Codec::aac;
    a.sample_rate = static_cast<int>(asc->output_sample_rate());
    a.channels = asc->channels();
    a.decoder_config.assign(tag->data.begin(), tag->data.end());
    if (!audio_ || *audio_ != a) changed_ = true;
    audio_ = std::move(a);
    return {};
  }
  if (!audio_) return {};
  announce_if_changed();
  auto packet = flv::audio_packet_from_tag(*tag, timestamp_ms, std::move(body));
  if (!packet) return packet.error();
  if (packet->bytes().empty()) return {};
  ++packets_;
  publisher_->push(std::move(*packet));
  return {};
}

}  // namespace anchorcast
