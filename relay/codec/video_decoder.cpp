#include "relay/codec/video_decoder.hpp"

#include <cstring>
#include <string>

#include "relay/codec/yuv_color.hpp"
#include "relay/protocol/h264/avc_decoder_config.hpp"
#include "relay/protocol/h264/nal_unit.hpp"
#include "relay/protocol/hevc/hevc_decoder_config.hpp"
#include "relay/protocol/hevc/nal_unit.hpp"

namespace anchorcast::codec {
namespace {

const char* decoder_name(Codec codec) { return codec == Codec::hevc ? "HEVC decoder" : "H.264 decoder"; }

// The track's record rewritten for 4-byte NAL lengths: whatever the publisher's record
// said, Packets carry 4-byte lengths.
Result<std::vector<uint8_t>> extradata_for(const VideoTrack& track) {
  if (track.codec == Codec::h264) {
    auto config = h264::parse_avc_decoder_config(track.decoder_config);
    if (!config) return make_error("the track's AVCDecoderConfigurationRecord is invalid: " + config.error().message);
    if (config->sps.empty() || config->pps.empty())
      return make_error("the track's AVCDecoderConfigurationRecord has no SPS or no PPS");
    config->length_size = 4;
    return h264::serialize_avc_decoder_config(*config);
  }
  if (track.codec == Codec::hevc) {
    auto config = hevc::parse_hevc_decoder_config(track.decoder_config);
    if (!config)
      return make_error("the track's HEVCDecoderConfigurationRecord is invalid: " + config.error().message);
    config->length_size = 4;
    return hevc::serialize_hevc_decoder_config(*config);
  }
  return make_error(std::string("the track's codec is ") + codec_name(track.codec));
}

Status check_framing(const Packet& packet) {
  auto ignore = [](std::span<const uint8_t>) {};
  return packet.codec == Codec::hevc ? hevc::for_each_nal(packet.bytes(), 4, ignore)
                                     : h264::for_each_avcc_nal(packet.bytes(), 4, ignore);
}

}  // namespace

VideoDecoder::VideoDecoder(int threads)
    : threads_(threads < 1 ? 1 : threads), frame_(av_frame_alloc()), packet_(av_packet_alloc()) {}

Status VideoDecoder::error(const std::string& what) const {
  return make_error(std::string(decoder_name(track_.codec)) + ": " + what);
}

Status VideoDecoder::open(const VideoTrack& track) {
  if (context_ && track == track_) return {};
  close();
  const std::string name = decoder_name(track.codec);
  if (!frame_ || !packet_) return make_error(name + ": out of memory");
  auto extradata = extradata_for(track);
  if (!extradata) return make_error(name + ": " + extradata.error().message);

  const AVCodec* codec = avcodec_find_decoder(track.codec == Codec::hevc ? AV_CODEC_ID_HEVC : AV_CODEC_ID_H264);
  if (!codec) return make_error(name + ": libavcodec was built without it");
  AvCodecContextPtr context(avcodec_alloc_context3(codec));
  if (!context) return make_error(name + ": out of memory");
  context->extradata = static_cast<uint8_t*>(av_mallocz(extradata->size() + AV_INPUT_BUFFER_PADDING_SIZE));
  if (!context->extradata) return make_error(name + ": out of memory");
  std::memcpy(context->extradata, extradata->data(), extradata->size());
  context->extradata_size = static_cast<int>(extradata->size());
  context->width = track.width;
  context->height = track.height;
  // Frame threads add one frame of delay per thread; slices add none.
  context->thread_count = threads_;
  context->thread_type = FF_THREAD_SLICE;
  context->flags |= AV_CODEC_FLAG_LOW_DELAY;
  if (int err = avcodec_open2(context.get(), codec, nullptr); err < 0)
    return make_error(name + ": cannot open: " + av_error_text(err));
  context_ = std::move(context);
  track_ = track;
  time_base_known_ = false;
  draining_ = false;
  return {};
}

Status VideoDecoder::send(const Packet& packet) {
  if (!context_) return make_error("video decoder: send before open");
  if (draining_) return error("send after drain (open again first)");
  if (packet.kind != MediaKind::video || packet.codec != track_.codec)
    return error(std::string("got a ") + codec_name(packet.codec) + " packet");
  // libavcodec would resync on a bad length; refusing the packet here makes the error a
  // value the caller sees instead of a log line.
  if (Status framing = check_framing(packet); !framing) return error("malformed packet: " + framing.error().message);
  if (!time_base_known_) {
    time_base_ = packet.time_base;
    time_base_known_ = true;
    context_->pkt_timebase = AVRational{static_cast<int>(time_base_.num), static_cast<int>(time_base_.den)};
  }
  // Not reference-counted: libavcodec copies the bytes into its own padded buffer.
  packet_->data = const_cast<uint8_t*>(packet.bytes().data());
  packet_->size = static_cast<int>(packet.bytes().size());
  packet_->pts = packet.pts_in(time_base_);
  packet_->dts = packet.dts_in(time_base_);
  packet_->flags = packet.keyframe ? AV_PKT_FLAG_KEY : 0;
  const int err = avcodec_send_packet(context_.get(), packet_.get());
  av_packet_unref(packet_.get());
  if (err == AVERROR(EAGAIN)) return error("receive() the decoded frames before sending more");
  if (err < 0) return error("cannot decode packet at pts " + std::to_string(packet.pts) + ": " + av_error_text(err));
  return {};
}

Result<AVFrame*> VideoDecoder::receive() {
  if (!context_) return static_cast<AVFrame*>(nullptr);
  av_frame_unref(frame_.get());
  const int err = avcodec_receive_frame(context_.get(), frame_.get());
  if (err == AVERROR(EAGAIN) || err == AVERROR_EOF) return static_cast<AVFrame*>(nullptr);
  if (err < 0) return error("cannot decode: " + av_error_text(err)).error();
  if (!is_yuv420p_8bit(*frame_))
    return error("the source is not 8-bit 4:2:0 (10-bit, 4:2:2 and 4:4:4 video is not re-encoded); send 8-bit "
                 "yuv420p")
        .error();
  frame_->pts = frame_->best_effort_timestamp;
  return frame_.get();
}

Status VideoDecoder::drain() {
  if (!context_) return {};
  if (draining_) return {};
  draining_ = true;
  if (int err = avcodec_send_packet(context_.get(), nullptr); err < 0 && err != AVERROR_EOF)
    return error("cannot drain: " + av_error_text(err));
  return {};
}

void VideoDecoder::close() {
  context_.reset();
  if (frame_) av_frame_unref(frame_.get());
  track_ = VideoTrack{};
  draining_ = false;
}

}  // namespace anchorcast::codec
