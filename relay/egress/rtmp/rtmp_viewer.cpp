#include "relay/egress/rtmp/rtmp_viewer.hpp"

#include <algorithm>
#include <utility>

#include "anchorcast/core/log.hpp"
#include "relay/egress/flv/cue_point_bytes.hpp"
#include "relay/protocol/flv/audio_tag.hpp"
#include "relay/protocol/flv/ex_video_tag.hpp"
#include "relay/protocol/flv/video_tag.hpp"
#include "relay/protocol/rtmp/messages.hpp"

namespace anchorcast {

namespace {

uint32_t rtmp_timestamp(const Packet& p) {
  // RTMP timestamps are unsigned milliseconds (spec 5.3.1.2.1); the hub's timeline
  // starts at or after 0, so a negative dts only comes from a publisher's B-frame
  // lead-in and is pinned to 0.
  int64_t ms = p.dts_in(kMillis);
  return ms < 0 ? 0 : static_cast<uint32_t>(ms);
}

}  // namespace

rtmp::Amf0Value metadata_for(const TrackSet& tracks) {
  using rtmp::Amf0Value;
  Amf0Value meta = Amf0Value::make_ecma_array();
  meta.set("duration", Amf0Value::make_number(0));  // live
  if (tracks.video) {
    meta.set("width", Amf0Value::make_number(tracks.video->width));
    meta.set("height", Amf0Value::make_number(tracks.video->height));
    if (tracks.video->fps > 0) meta.set("framerate", Amf0Value::make_number(tracks.video->fps));
    // FLV E.4.3.1: 7 is AVC; enhanced-rtmp v1 "Enhancing onMetaData": the FourCC as a
    // number for the enhanced codecs.
    const double codec_id = tracks.video->codec == Codec::hevc ? static_cast<double>(flv::kFourCcHevc) : 7.0;
    meta.set("videocodecid", Amf0Value::make_number(codec_id));
  }
  if (tracks.audio) {
    meta.set("audiosamplerate", Amf0Value::make_number(tracks.audio->sample_rate));
    meta.set("audiochannels", Amf0Value::make_number(tracks.audio->channels));
    meta.set("stereo", Amf0Value::make_boolean(tracks.audio->channels >= 2));
    meta.set("audiocodecid", Amf0Value::make_number(10));  // FLV E.4.2.1: AAC
  }
  meta.set("encoder", Amf0Value::make_string("anchorcast"));
  return meta;
}

void RtmpViewer::send_tracks(const TrackSet& tracks, uint32_t timestamp, const rtmp::ChunkWriter& writer,
                             RtmpPlayBatch& batch) {
  // Timestamp 0: ffmpeg's FLV demuxer turns an onMetaData with any other timestamp into
  // a "subtitle" data stream (flvdec.c, flv_read_packet), and players ignore its time.
  rtmp::Message meta = rtmp::make_on_metadata(stream_id_, metadata_for(tracks));
  meta.timestamp = 0;
  batch.add_message(writer, meta);
  const bool h264 = tracks.video && tracks.video->codec == Codec::h264;
  const bool hevc = tracks.video && tracks.video->codec == Codec::hevc;
  if ((h264 || hevc) && !tracks.video->decoder_config.empty()) {
    rtmp::Message m;
    m.type_id = rtmp::msg::kVideo;
    m.stream_id = stream_id_;
    m.csid = rtmp::csid::kVideo;
    m.timestamp = timestamp;
    if (hevc) {
      // Enhanced RTMP v1: SequenceStart (key frame, 'hvc1') with the hvcC.
      auto prefix = flv::hevc_sequence_start_prefix();
      m.payload.assign(prefix.begin(), prefix.end());
    } else {
      auto prefix = flv::avc_sequence_header_prefix();
      m.payload.assign(prefix.begin(), prefix.end());
    }
    m.payload.insert(m.payload.end(), tracks.video->decoder_config.begin(), tracks.video->decoder_config.end());
    batch.add_message(writer, m);
  }
  if (tracks.audio && tracks.audio->codec == Codec::aac && !tracks.audio->decoder_config.empty()) {
    rtmp::Message m;
    m.type_id = rtmp::msg::kAudio;
    m.stream_id = stream_id_;
    m.csid = rtmp::csid::kAudio;
    m.timestamp = timestamp;
    auto prefix = flv::serialize_aac_audio_prefix(flv::AacPacketType::sequence_header);
    m.payload.assign(prefix.begin(), prefix.end());
    m.payload.insert(m.payload.end(), tracks.audio->decoder_config.begin(), tracks.audio->decoder_config.end());
    batch.add_message(writer, m);
  }
}

RtmpViewer::Action RtmpViewer::on_event(const MediaEvent& event, const rtmp::ChunkWriter& writer,
                                        FramedMessageCache& cache, RtmpPlayBatch& batch) {
  switch (event.type) {
    case MediaEvent::Type::tracks:
      pending_tracks_ = event.tracks;
      return Action::keep;
    case MediaEvent::Type::publisher_gone:
      // The viewer stays: the hub resumes the same timeline when the anchor is back,
      // preceded by a fresh track announcement.
      return Action::keep;
    case MediaEvent::Type::stream_closed:
      return Action::close;
    case MediaEvent::Type::cue:
      if (!event.cue) return Action::keep;
      // After onMetaData and the sequence headers, so a player has set the stream up.
      if (pending_tracks_ || packets_sent_ == 0) {
        pending_cue_ = event.cue;  // each cue is the whole state: the newest is enough
      } else {
        send_cue(event.cue, writer, cache, batch);
      }
      return Action::keep;
    case MediaEvent::Type::packet:
      break;
  }
  if (!event.packet) return Action::keep;
  const Packet& p = *event.packet;
  uint32_t ts = rtmp_timestamp(p);
  if (pending_tracks_) {
    send_tracks(*pending_tracks_, ts, writer, batch);
    pending_tracks_.reset();
  }
  rtmp::ChunkHeaderFields fields;
  fields.stream_id = stream_id_;
  fields.timestamp = ts;
  if (p.kind == MediaKind::video && p.codec == Codec::hevc) {
    // Enhanced RTMP v1 CodedFrames (CodedFramesX when the composition time is 0).
    auto prefix = flv::ex_video_tag_prefix(p);
    if (!prefix) return Action::keep;  // not reached: the codec is HEVC
    fields.csid = rtmp::csid::kVideo;
    fields.type_id = rtmp::msg::kVideo;
    batch.add_framed(cache.get(writer, fields, prefix->bytes(), event.packet));
  } else if (p.kind == MediaKind::video) {
    auto prefix = flv::video_tag_prefix(p);
    if (!prefix) {
      // FLV carries H.264 and (Enhanced RTMP) HEVC; another codec cannot be relayed over
      // RTMP, but its viewers on other protocols are unaffected.
      if (!warned_codec_) log::warn("rtmp play: ", prefix.error().message, "; dropping video");
      warned_codec_ = true;
      return Action::keep;
    }
    fields.csid = rtmp::csid::kVideo;
    fields.type_id = rtmp::msg::kVideo;
    batch.add_framed(cache.get(writer, fields, *prefix, event.packet));
  } else {
    auto prefix = flv::audio_tag_prefix(p);
    if (!prefix) {
      if (!warned_codec_) log::warn("rtmp play: ", prefix.error().message, "; dropping audio");
      warned_codec_ = true;
      return Action::keep;
    }
    fields.csid = rtmp::csid::kAudio;
    fields.type_id = rtmp::msg::kAudio;
    batch.add_framed(cache.get(writer, fields, *prefix, event.packet));
  }
  ++packets_sent_;
  if (pending_cue_) send_cue(std::exchange(pending_cue_, nullptr), writer, cache, batch);
  return Action::keep;
}

void RtmpViewer::send_cue(const CuePtr& cue, const rtmp::ChunkWriter& writer, FramedMessageCache& cache,
                          RtmpPlayBatch& batch) {
  rtmp::ChunkHeaderFields fields;
  fields.csid = rtmp::csid::kStreamCommand;  // where onMetaData goes: data on the message stream
  fields.type_id = rtmp::msg::kDataAmf0;
  fields.stream_id = stream_id_;
  fields.timestamp = cue->pts_ms < 0 ? 0u : static_cast<uint32_t>(cue->pts_ms);
  batch.add_framed(cache.get(writer, fields, {}, cue_point_bytes(cue)));
}

}  // namespace anchorcast
