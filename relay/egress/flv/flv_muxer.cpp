#include "relay/egress/flv/flv_muxer.hpp"

#include <algorithm>
#include <utility>

#include "relay/egress/clear_and_trim.hpp"
#include "relay/egress/flv/cue_point_bytes.hpp"
#include "relay/protocol/flv/audio_tag.hpp"
#include "relay/protocol/flv/ex_video_tag.hpp"
#include "relay/protocol/flv/flv_header.hpp"
#include "relay/protocol/flv/flv_tag.hpp"
#include "relay/protocol/flv/video_tag.hpp"
#include "relay/protocol/rtmp/amf0.hpp"

namespace anchorcast {

// ---- FlvBatch ----

std::vector<std::span<const uint8_t>> FlvBatch::spans() const {
  std::vector<std::span<const uint8_t>> out;
  for_each_span([&out](std::span<const uint8_t> span) { out.push_back(span); });
  return out;
}

void FlvBatch::clear() {
  // Sized for a few tags per write; a join's GOP replay gives its memory back.
  clear_and_trim(owned_, 1024);
  clear_and_trim(refs_, 32);
  clear_and_trim(packets_, 16);
  clear_and_trim(framed_, 16);
  size_bytes_ = 0;
}

void FlvBatch::add_owned(std::span<const uint8_t> bytes) {
  if (bytes.empty()) return;
  const size_t offset = owned_.size();
  owned_.insert(owned_.end(), bytes.begin(), bytes.end());
  size_bytes_ += bytes.size();
  // Owned bytes written back to back (a PreviousTagSize and the next tag header) are
  // one piece.
  if (!refs_.empty() && !refs_.back().data && refs_.back().offset + refs_.back().length == offset) {
    refs_.back().length += bytes.size();
    return;
  }
  refs_.push_back({nullptr, offset, bytes.size()});
}

void FlvBatch::add_payload(const PacketPtr& packet) {
  if (packet->bytes().empty()) return;
  refs_.push_back({packet->bytes().data(), 0, packet->bytes().size()});
  packets_.push_back(packet);
  size_bytes_ += packet->bytes().size();
}

void FlvBatch::add_framed(FramedTagPtr tag) {
  refs_.push_back({tag->head.data(), 0, tag->head_size});
  if (!tag->packet->bytes().empty()) refs_.push_back({tag->packet->bytes().data(), 0, tag->packet->bytes().size()});
  refs_.push_back({tag->previous_tag_size.data(), 0, tag->previous_tag_size.size()});
  size_bytes_ += tag->size_bytes();
  framed_.push_back(std::move(tag));
}

// ---- FlvMuxer ----

namespace {

constexpr uint8_t kTagAudio = static_cast<uint8_t>(flv::TagType::audio);
constexpr uint8_t kTagVideo = static_cast<uint8_t>(flv::TagType::video);
constexpr uint8_t kTagScript = static_cast<uint8_t>(flv::TagType::script);

// H.264 as legacy FLV tags; HEVC as Enhanced RTMP v1 tags (ExVideoTagHeader, 'hvc1').
bool has_video(const TrackSet& t) {
  return t.video && (t.video->codec == Codec::h264 || t.video->codec == Codec::hevc);
}
bool has_aac(const TrackSet& t) { return t.audio && t.audio->codec == Codec::aac; }

// onMetaData videocodecid: E.4.3.1's CodecID 7 for AVC; enhanced-rtmp v1 "Enhancing
// onMetaData": the FourCC as a number for the enhanced codecs.
double flv_video_codec_id(Codec codec) {
  return codec == Codec::hevc ? static_cast<double>(flv::kFourCcHevc) : 7.0;
}

// E.5 onMetaData: what players show before the first frame decodes.
std::vector<uint8_t> metadata_body(const TrackSet& tracks) {
  using rtmp::Amf0Value;
  Amf0Value meta = Amf0Value::make_ecma_array();
  meta.set("duration", Amf0Value::make_number(0));  // live
  if (has_video(tracks)) {
    meta.set("width", Amf0Value::make_number(tracks.video->width));
    meta.set("height", Amf0Value::make_number(tracks.video->height));
    if (tracks.video->fps > 0) meta.set("framerate", Amf0Value::make_number(tracks.video->fps));
    meta.set("videocodecid", Amf0Value::make_number(flv_video_codec_id(tracks.video->codec)));
  }
  if (has_aac(tracks)) {
    meta.set("audiosamplerate", Amf0Value::make_number(tracks.audio->sample_rate));
    meta.set("audiosamplesize", Amf0Value::make_number(16));
    meta.set("stereo", Amf0Value::make_boolean(tracks.audio->channels >= 2));
    meta.set("audiocodecid", Amf0Value::make_number(10));  // E.4.2.1: AAC
  }
  meta.set("encoder", Amf0Value::make_string("anchorcast"));
  const Amf0Value values[] = {Amf0Value::make_string("onMetaData"), std::move(meta)};
  return rtmp::encode_amf0(values);
}

}  // namespace

void FlvMuxer::write_tag(uint8_t type, uint32_t timestamp_ms, std::span<const uint8_t> body_prefix,
                         const PacketPtr& payload_owner, std::span<const uint8_t> owned_body, FlvBatch& batch) {
  const size_t payload = payload_owner ? payload_owner->bytes().size() : 0;
  const size_t data_size = body_prefix.size() + owned_body.size() + payload;
  if (data_size > flv::kMaxTagDataSize) return;  // cannot be framed (16 MiB); never seen in practice
  flv::TagHeader header;
  header.type = static_cast<flv::TagType>(type);
  header.data_size = static_cast<uint32_t>(data_size);
  header.timestamp_ms = static_cast<int32_t>(timestamp_ms);
  batch.add_owned(flv::serialize_tag_header(header));
  batch.add_owned(body_prefix);
  batch.add_owned(owned_body);
  if (payload_owner) batch.add_payload(payload_owner);
  // E.3: PreviousTagSize = 11 + DataSize of the tag just written.
  batch.add_owned(flv::serialize_previous_tag_size(static_cast<uint32_t>(flv::kTagHeaderSize + data_size)));
}

void FlvMuxer::write_tracks(const TrackSet& tracks, uint32_t timestamp_ms, FlvBatch& batch) {
  // Timestamp 0 for onMetaData: FFmpeg's flvdec turns script data with any other
  // timestamp into an extra data stream.
  write_tag(kTagScript, 0, {}, nullptr, metadata_body(tracks), batch);
  if (has_video(tracks) && !tracks.video->decoder_config.empty()) {
    if (tracks.video->codec == Codec::hevc)  // v1: SequenceStart, key frame, the hvcC
      write_tag(kTagVideo, timestamp_ms, flv::hevc_sequence_start_prefix(), nullptr, tracks.video->decoder_config,
                batch);
    else
      write_tag(kTagVideo, timestamp_ms, flv::avc_sequence_header_prefix(), nullptr, tracks.video->decoder_config,
                batch);
  }
  if (has_aac(tracks) && !tracks.audio->decoder_config.empty())
    write_tag(kTagAudio, timestamp_ms, flv::serialize_aac_audio_prefix(flv::AacPacketType::sequence_header),
              nullptr, tracks.audio->decoder_config, batch);
}

bool FlvMuxer::on_event(const MediaEvent& event, FlvBatch& batch) {
  switch (event.type) {
    case MediaEvent::Type::stream_closed:
      return false;
    case MediaEvent::Type::cue:
      if (!event.cue) return true;
      if (!header_written_ || pending_tracks_ || waiting_for_keyframe_) {
        pending_cue_ = event.cue;  // each cue is the whole state: the newest is enough
        return true;
      }
      write_cue(event.cue, batch);
      return true;
    case MediaEvent::Type::publisher_gone:
      return true;  // the hub resumes the same timeline with a new track announcement
    case MediaEvent::Type::tracks:
      if (!event.tracks) return true;
      if (!event.new_session && tracks_ && *tracks_ == *event.tracks) return true;  // a repeat
      if (!header_written_) {
        // E.2: the TypeFlags say which tag types follow. They cannot change later, so a
        // track that appears mid-stream may be ignored by strict players.
        flv::FileHeader header;
        header.has_video = has_video(*event.tracks);
        header.has_audio = has_aac(*event.tracks);
        batch.add_owned(flv::serialize_file_header(header));
        header_written_ = true;
      }
      tracks_ = event.tracks;
      pending_tracks_ = event.tracks;
      // After a new session or a codec change, old references are gone: restart on an IDR.
      waiting_for_keyframe_ = has_video(*tracks_);
      return true;
    case MediaEvent::Type::packet:
      break;
  }
  const PacketPtr& packet = event.packet;
  if (!packet || !tracks_) return true;
  const bool is_video = packet->kind == MediaKind::video;
  if (is_video ? !has_video(*tracks_) || packet->codec != tracks_->video->codec
               : !has_aac(*tracks_) || packet->codec != Codec::aac)
    return true;
  if (is_video && waiting_for_keyframe_) {
    if (!packet->keyframe) return true;
    waiting_for_keyframe_ = false;
  }
  const uint32_t t = flv_timestamp_ms(*packet);
  if (pending_tracks_) {
    write_tracks(*pending_tracks_, t, batch);
    pending_tracks_.reset();
  }
  if (FramedTagPtr tag = shared_ ? shared_->get(packet) : FramedTag::build(packet)) batch.add_framed(std::move(tag));
  if (pending_cue_) write_cue(std::exchange(pending_cue_, nullptr), batch);
  return true;
}

void FlvMuxer::write_cue(const CuePtr& cue, FlvBatch& batch) {
  // FLV timestamps are 32-bit ms like the media tags' (see flv_timestamp_ms).
  const uint32_t at = cue->pts_ms < 0 ? 0u : static_cast<uint32_t>(cue->pts_ms);
  write_tag(kTagScript, at, {}, cue_point_bytes(cue), {}, batch);
}

}  // namespace anchorcast
