#include "relay/ingest/rtmp/rtmp_publish.hpp"

#include "anchorcast/core/log.hpp"
#include "relay/protocol/aac/audio_specific_config.hpp"
#include "relay/protocol/flv/audio_tag.hpp"
#include "relay/protocol/flv/video_tag.hpp"
#include "relay/protocol/h264/avc_decoder_config.hpp"
#include "relay/protocol/h264/sps.hpp"

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

Status RtmpPublish::on_video(uint32_t timestamp_ms, std::vector<uint8_t> body) {
  if (body.empty()) return {};  // some encoders send empty video messages as keep-alives
  auto tag = flv::parse_video_tag_body(body);
  if (!tag) return tag.error();
  if (tag->frame_type == flv::VideoFrameType::command) return {};  // E.4.3.1: not a frame
  if (!tag->is_avc()) {
    if (!warned_video_)
      log::warn(label_, ": video codec id ", static_cast<int>(tag->codec_id), " is not supported (H.264 only); dropping video");
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
  if (!video_) return {};  // undecodable without its sequence header
  announce_if_changed();
  auto packet = flv::video_packet_from_tag(*tag, timestamp_ms, std::move(body));
  if (!packet) return packet.error();
  if (packet->bytes().empty()) return {};
  ++packets_;
  publisher_->push(std::move(*packet));
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
