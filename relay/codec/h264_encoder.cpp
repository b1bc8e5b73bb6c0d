#include "relay/codec/h264_encoder.hpp"

#include <climits>
#include <span>
#include <string>

extern "C" {
#include <libavutil/dict.h>
#include <libavutil/opt.h>
}

#include "relay/protocol/h264/annexb.hpp"
#include "relay/protocol/h264/avc_decoder_config.hpp"
#include "relay/protocol/h264/nal_unit.hpp"

namespace anchorcast::codec {
namespace {

Status av_failure(const std::string& what, int error) {
  return make_error("H.264 encoder: " + what + ": " + av_error_text(error));
}

Status check(const EncoderSettings& s) {
  if (s.width <= 0 || s.height <= 0 || s.width % 2 || s.height % 2)
    return make_error("H.264 encoder: size " + std::to_string(s.width) + "x" + std::to_string(s.height) +
                      " must be positive and even (4:2:0)");
  if (s.time_base.num <= 0 || s.time_base.den <= 0 || s.time_base.num > INT_MAX || s.time_base.den > INT_MAX)
    return make_error("H.264 encoder: time base must be a positive fraction of 32-bit integers");
  if (!(s.fps > 0 && s.fps <= 240)) return make_error("H.264 encoder: fps must be in (0, 240]");
  if (s.bitrate_kbps <= 0) return make_error("H.264 encoder: bitrate_kbps must be positive");
  if (s.keyframe_interval < 1) return make_error("H.264 encoder: keyframe_interval must be at least 1 frame");
  if (s.threads < 1) return make_error("H.264 encoder: threads must be at least 1");
  return {};
}

void set_color(AVCodecContext& c, YuvColor color) {
  const bool bt709 = color.matrix == YuvMatrix::bt709;
  c.colorspace = bt709 ? AVCOL_SPC_BT709 : AVCOL_SPC_SMPTE170M;
  c.color_primaries = bt709 ? AVCOL_PRI_BT709 : AVCOL_PRI_SMPTE170M;
  c.color_trc = bt709 ? AVCOL_TRC_BT709 : AVCOL_TRC_SMPTE170M;
  c.color_range = color.range == YuvRange::full ? AVCOL_RANGE_JPEG : AVCOL_RANGE_MPEG;
}

// x264 hands the SPS and PPS as Annex B in extradata when asked for a global header.
Result<std::vector<uint8_t>> avcc_from_extradata(std::span<const uint8_t> extradata) {
  std::span<const uint8_t> sps, pps;
  h264::for_each_annexb_nal(extradata, [&](std::span<const uint8_t> nal) {
    const h264::NalType type = h264::nal_type(nal[0]);
    if (type == h264::NalType::sps && sps.empty()) sps = nal;
    if (type == h264::NalType::pps && pps.empty()) pps = nal;
  });
  if (sps.empty() || pps.empty()) return make_error("H.264 encoder: x264 gave no SPS/PPS in its global header");
  return h264::build_avc_decoder_config(sps, pps);
}

}  // namespace

Status H264Encoder::open(const EncoderSettings& settings) {
  close();
  if (Status ok = check(settings); !ok) return ok;
  const AVCodec* codec = avcodec_find_encoder_by_name("libx264");
  if (!codec) return make_error("H.264 encoder: libavcodec was built without libx264");
  AvCodecContextPtr context(avcodec_alloc_context3(codec));
  input_.reset(av_frame_alloc());
  packet_.reset(av_packet_alloc());
  if (!context || !input_ || !packet_) return make_error("H.264 encoder: out of memory");

  context->width = settings.width;
  context->height = settings.height;
  context->pix_fmt = AV_PIX_FMT_YUV420P;
  context->time_base = AVRational{static_cast<int>(settings.time_base.num), static_cast<int>(settings.time_base.den)};
  context->framerate = av_d2q(settings.fps, 100000);
  context->bit_rate = int64_t{settings.bitrate_kbps} * 1000;
  // Live: a one-second VBV at the average rate keeps every second near the bitrate.
  context->rc_max_rate = context->bit_rate;
  context->rc_buffer_size = static_cast<int>(context->bit_rate);
  context->gop_size = settings.keyframe_interval;
  context->max_b_frames = 0;
  context->thread_count = settings.threads;
  // SPS/PPS once, as extradata (x264's repeat-headers off): the avcC of output_track().
  context->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  set_color(*context, settings.color);

  AVDictionary* options = nullptr;
  av_dict_set(&options, "preset", settings.preset.c_str(), 0);
  if (!settings.profile.empty()) av_dict_set(&options, "profile", settings.profile.c_str(), 0);
  av_dict_set(&options, "tune", "zerolatency", 0);
  av_dict_set(&options, "forced-idr", "1", 0);  // a forced keyframe is an IDR, not an open-GOP I
  // Keyframes exactly every keyframe_interval frames: segmenters and GOP caches cut there.
  av_dict_set(&options, "x264-params", "scenecut=0", 0);
  const int err = avcodec_open2(context.get(), codec, &options);
  const bool unused_options = av_dict_count(options) > 0;
  av_dict_free(&options);
  if (err < 0)
    return av_failure("cannot open libx264 (preset \"" + settings.preset + "\", profile \"" + settings.profile + "\")",
                      err);
  if (unused_options) return make_error("H.264 encoder: this libx264 does not know an option we set");

  auto config = avcc_from_extradata({context->extradata, static_cast<size_t>(context->extradata_size)});
  if (!config) return make_error(config.error().message);
  track_ = VideoTrack{};
  track_.codec = Codec::h264;
  track_.width = settings.width;
  track_.height = settings.height;
  track_.fps = settings.fps;
  track_.decoder_config = std::move(config).value();
  settings_ = settings;
  context_ = std::move(context);
  draining_ = false;
  return {};
}

Status H264Encoder::encode(const AVFrame* frame, int64_t pts, bool force_keyframe) {
  if (!context_) return make_error("H.264 encoder: encode before open");
  if (draining_) return make_error("H.264 encoder: encode after drain (open again first)");
  if (!frame || !is_yuv420p_8bit(*frame))
    return make_error("H.264 encoder: the frame must be 8-bit 4:2:0");
  // An odd-sized source (4:2:0 H.264 may crop to odd sizes) is encoded without its last
  // column/row: the encoder is opened for the even size below it.
  const bool fits = (frame->width == settings_.width || frame->width == settings_.width + 1) &&
                    (frame->height == settings_.height || frame->height == settings_.height + 1);
  if (!fits)
    return make_error("H.264 encoder: frame is " + std::to_string(frame->width) + "x" +
                      std::to_string(frame->height) + ", the encoder was opened for " +
                      std::to_string(settings_.width) + "x" + std::to_string(settings_.height));
  // A new reference to the caller's buffers (no pixel copy) carries our pts and type.
  if (int err = av_frame_ref(input_.get(), frame); err < 0) return av_failure("cannot reference the frame", err);
  input_->format = AV_PIX_FMT_YUV420P;  // yuvj420p: same layout, range is in the VUI
  input_->width = settings_.width;
  input_->height = settings_.height;
  input_->pts = pts;
  input_->pict_type = force_keyframe ? AV_PICTURE_TYPE_I : AV_PICTURE_TYPE_NONE;
  const int err = avcodec_send_frame(context_.get(), input_.get());
  av_frame_unref(input_.get());
  if (err == AVERROR(EAGAIN)) return make_error("H.264 encoder: receive() the packets before encoding more");
  if (err < 0) return av_failure("cannot encode frame at pts " + std::to_string(pts), err);
  return {};
}

Result<std::optional<Packet>> H264Encoder::receive() {
  if (!context_) return std::optional<Packet>();
  const int err = avcodec_receive_packet(context_.get(), packet_.get());
  if (err == AVERROR(EAGAIN) || err == AVERROR_EOF) return std::optional<Packet>();
  if (err < 0) return av_failure("cannot encode", err).error();
  Packet out;
  out.kind = MediaKind::video;
  out.codec = Codec::h264;
  out.keyframe = (packet_->flags & AV_PKT_FLAG_KEY) != 0;
  out.time_base = settings_.time_base;
  out.pts = packet_->pts;
  out.dts = packet_->pts;
  out.payload.reserve(static_cast<size_t>(packet_->size) + 16);
  h264::annexb_to_avcc({packet_->data, static_cast<size_t>(packet_->size)}, out.payload);
  av_packet_unref(packet_.get());
  return std::optional<Packet>(std::move(out));
}

void H264Encoder::set_bitrate(int kbps) {
  if (!context_ || kbps <= 0) return;
  // FFmpeg's libx264 wrapper compares these with x264's parameters before each frame and
  // calls x264_encoder_reconfig when they differ.
  context_->bit_rate = int64_t{kbps} * 1000;
  context_->rc_max_rate = context_->bit_rate;
  context_->rc_buffer_size = static_cast<int>(context_->bit_rate);
  settings_.bitrate_kbps = kbps;
}

Status H264Encoder::drain() {
  if (!context_ || draining_) return {};
  draining_ = true;
  if (int err = avcodec_send_frame(context_.get(), nullptr); err < 0 && err != AVERROR_EOF)
    return av_failure("cannot drain", err);
  return {};
}

void H264Encoder::close() {
  context_.reset();
  track_ = VideoTrack{};
  draining_ = false;
}

}  // namespace anchorcast::codec
