#include "overlay/compositor/h264_decoder.hpp"

#include <cstring>
#include <string>

#include "overlay/compositor/av_yuv_frame.hpp"
#include "relay/protocol/h264/avc_decoder_config.hpp"
#include "relay/protocol/h264/nal_unit.hpp"

namespace anchorcast::compositor {
namespace {

Status av_failure(const std::string& what, int error) {
  return make_error("H.264 decoder: " + what + ": " + av_error_text(error));
}

}  // namespace

H264Decoder::H264Decoder(int threads)
    : threads_(threads < 1 ? 1 : threads), frame_(av_frame_alloc()), packet_(av_packet_alloc()) {}

Status H264Decoder::open(const VideoTrack& track) {
  if (context_ && track == track_) return {};
  close();
  if (!frame_ || !packet_) return make_error("H.264 decoder: out of memory");
  if (track.codec != Codec::h264)
    return make_error(std::string("H.264 decoder: the track's codec is ") + codec_name(track.codec));
  auto config = h264::parse_avc_decoder_config(track.decoder_config);
  if (!config)
    return make_error("H.264 decoder: the track's AVCDecoderConfigurationRecord is invalid: " +
                      config.error().message);
  if (config->sps.empty() || config->pps.empty())
    return make_error("H.264 decoder: the track's AVCDecoderConfigurationRecord has no SPS or no PPS");
  // Whatever the publisher's record said, Packets carry 4-byte lengths.
  config->length_size = 4;
  auto extradata = h264::serialize_avc_decoder_config(*config);
  if (!extradata) return make_error("H.264 decoder: " + extradata.error().message);

  const AVCodec* codec = avcodec_find_decoder(AV_CODEC_ID_H264);
  if (!codec) return make_error("H.264 decoder: libavcodec was built without an H.264 decoder");
  AvCodecContextPtr context(avcodec_alloc_context3(codec));
  if (!context) return make_error("H.264 decoder: out of memory");
  context->extradata = static_cast<uint8_t*>(av_mallocz(extradata->size() + AV_INPUT_BUFFER_PADDING_SIZE));
  if (!context->extradata) return make_error("H.264 decoder: out of memory");
  std::memcpy(context->extradata, extradata->data(), extradata->size());
  context->extradata_size = static_cast<int>(extradata->size());
  context->width = track.width;
  context->height = track.height;
  // Frame threads add one frame of delay per thread; slices add none.
  context->thread_count = threads_;
  context->thread_type = FF_THREAD_SLICE;
  context->flags |= AV_CODEC_FLAG_LOW_DELAY;
  if (int err = avcodec_open2(context.get(), codec, nullptr); err < 0) return av_failure("cannot open", err);
  context_ = std::move(context);
  track_ = track;
  time_base_known_ = false;
  draining_ = false;
  return {};
}

Status H264Decoder::send(const Packet& packet) {
  if (!context_) return make_error("H.264 decoder: send before open");
  if (draining_) return make_error("H.264 decoder: send after drain (open again first)");
  if (packet.kind != MediaKind::video || packet.codec != Codec::h264)
    return make_error(std::string("H.264 decoder: got a ") + codec_name(packet.codec) + " packet");
  // libavcodec would resync on a bad length; refusing the packet here makes the error a
  // value the caller sees instead of a log line.
  if (Status framing = h264::for_each_avcc_nal(packet.bytes(), 4, [](std::span<const uint8_t>) {}); !framing)
    return make_error("H.264 decoder: malformed packet: " + framing.error().message);
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
  if (err == AVERROR(EAGAIN)) return make_error("H.264 decoder: receive() the decoded frames before sending more");
  if (err < 0) return av_failure("cannot decode packet at pts " + std::to_string(packet.pts), err);
  return {};
}

Result<AVFrame*> H264Decoder::receive() {
  if (!context_) return static_cast<AVFrame*>(nullptr);
  av_frame_unref(frame_.get());
  const int err = avcodec_receive_frame(context_.get(), frame_.get());
  if (err == AVERROR(EAGAIN) || err == AVERROR_EOF) return static_cast<AVFrame*>(nullptr);
  if (err < 0) return av_failure("cannot decode", err).error();
  if (!is_yuv420p_8bit(*frame_))
    return make_error("H.264 decoder: the source is not 8-bit 4:2:0 (High 10 / 4:2:2 / 4:4:4 profiles are "
                      "not composited); send 8-bit yuv420p");
  frame_->pts = frame_->best_effort_timestamp;
  return frame_.get();
}

Status H264Decoder::drain() {
  if (!context_) return {};
  if (draining_) return {};
  draining_ = true;
  if (int err = avcodec_send_packet(context_.get(), nullptr); err < 0 && err != AVERROR_EOF)
    return av_failure("cannot drain", err);
  return {};
}

void H264Decoder::close() {
  context_.reset();
  if (frame_) av_frame_unref(frame_.get());
  track_ = VideoTrack{};
  draining_ = false;
}

}  // namespace anchorcast::compositor
