// decode_image: asset bytes → premultiplied RGBA. The header probe (control::probe_image)
// runs first so only images within the asset caps reach libavcodec.
#include <cstring>
#include <memory>

#include "control/image_probe.hpp"
#include "render/card_renderer.hpp"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavutil/error.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
}

namespace anchorcast::overlay::render {

namespace {

struct CodecContextDeleter {
  void operator()(AVCodecContext* c) const { avcodec_free_context(&c); }
};
struct PacketDeleter {
  void operator()(AVPacket* p) const { av_packet_free(&p); }
};
struct FrameDeleter {
  void operator()(AVFrame* f) const { av_frame_free(&f); }
};
struct SwsDeleter {
  void operator()(SwsContext* s) const { sws_freeContext(s); }
};
using FramePtr = std::unique_ptr<AVFrame, FrameDeleter>;

std::string av_error_text(int rc) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(rc, buf, sizeof buf);
  return buf;
}

AVCodecID codec_for(const std::string& mime) {
  if (mime == "image/png") return AV_CODEC_ID_PNG;
  if (mime == "image/jpeg") return AV_CODEC_ID_MJPEG;
  return AV_CODEC_ID_WEBP;
}

Result<FramePtr> decode_frame(std::string_view bytes, AVCodecID id) {
  const AVCodec* codec = avcodec_find_decoder(id);
  if (!codec) return make_error("no decoder for this image format in this FFmpeg build");
  std::unique_ptr<AVCodecContext, CodecContextDeleter> ctx(avcodec_alloc_context3(codec));
  if (!ctx) return make_error("out of memory");
  ctx->thread_count = 1;
  ctx->err_recognition = AV_EF_EXPLODE | AV_EF_CRCCHECK;  // a damaged asset shows the placeholder, not garbage
  if (int rc = avcodec_open2(ctx.get(), codec, nullptr); rc < 0) return make_error(av_error_text(rc));
  std::unique_ptr<AVPacket, PacketDeleter> packet(av_packet_alloc());
  FramePtr frame(av_frame_alloc());
  if (!packet || !frame || av_new_packet(packet.get(), static_cast<int>(bytes.size())) < 0)
    return make_error("out of memory");
  std::memcpy(packet->data, bytes.data(), bytes.size());  // av_new_packet pads the buffer
  packet->flags |= AV_PKT_FLAG_KEY;
  if (int rc = avcodec_send_packet(ctx.get(), packet.get()); rc < 0) return make_error(av_error_text(rc));
  (void)avcodec_send_packet(ctx.get(), nullptr);  // drain
  if (int rc = avcodec_receive_frame(ctx.get(), frame.get()); rc < 0) return make_error(av_error_text(rc));
  return frame;
}

// The MJPEG decoder outputs the deprecated full-range "yuvj" formats; swscale wants the
// plain format plus an explicit range.
AVPixelFormat without_jpeg_range(AVPixelFormat format, bool& full_range) {
  switch (format) {
    case AV_PIX_FMT_YUVJ420P: full_range = true; return AV_PIX_FMT_YUV420P;
    case AV_PIX_FMT_YUVJ422P: full_range = true; return AV_PIX_FMT_YUV422P;
    case AV_PIX_FMT_YUVJ444P: full_range = true; return AV_PIX_FMT_YUV444P;
    case AV_PIX_FMT_YUVJ440P: full_range = true; return AV_PIX_FMT_YUV440P;
    case AV_PIX_FMT_YUVJ411P: full_range = true; return AV_PIX_FMT_YUV411P;
    default: return format;
  }
}

Result<RgbaImage> frame_to_rgba(const AVFrame& frame) {
  bool full_range = frame.color_range == AVCOL_RANGE_JPEG;
  const AVPixelFormat source = without_jpeg_range(static_cast<AVPixelFormat>(frame.format), full_range);
  std::unique_ptr<SwsContext, SwsDeleter> sws(
      sws_getContext(frame.width, frame.height, source, frame.width, frame.height, AV_PIX_FMT_RGBA,
                     SWS_POINT | SWS_FULL_CHR_H_INT | SWS_FULL_CHR_H_INP | SWS_ACCURATE_RND, nullptr, nullptr, nullptr));
  if (!sws) return make_error(std::string("cannot convert pixel format ") + av_get_pix_fmt_name(source) + " to RGBA");
  const int* coefficients = sws_getCoefficients(SWS_CS_ITU601);  // JFIF and WebP (VP8) are BT.601
  sws_setColorspaceDetails(sws.get(), coefficients, full_range ? 1 : 0, coefficients, 1, 0, 1 << 16, 1 << 16);
  RgbaImage image;
  image.width = frame.width;
  image.height = frame.height;
  image.pixels.resize(static_cast<size_t>(frame.width) * frame.height * 4);
  uint8_t* dst[4] = {image.pixels.data(), nullptr, nullptr, nullptr};
  int dst_stride[4] = {frame.width * 4, 0, 0, 0};
  if (sws_scale(sws.get(), frame.data, frame.linesize, 0, frame.height, dst, dst_stride) != frame.height)
    return make_error("pixel format conversion failed");
  if (!(av_pix_fmt_desc_get(source)->flags & AV_PIX_FMT_FLAG_ALPHA)) return image;  // opaque: already premultiplied
  for (size_t i = 0; i < image.pixels.size(); i += 4) {
    const unsigned alpha = image.pixels[i + 3];
    for (size_t c = 0; c < 3; ++c) image.pixels[i + c] = static_cast<uint8_t>((image.pixels[i + c] * alpha + 127) / 255);
  }
  return image;
}

}  // namespace

Result<RgbaImage> decode_image(std::string_view bytes) {
  auto info = control::probe_image(bytes);
  if (!info) return info.error();
  // T.81 B.2.3: a JPEG without a scan (FF DA) decodes to a grey frame in FFmpeg; refuse it.
  if (info->mime == "image/jpeg" && bytes.find("\xFF\xDA") == std::string_view::npos)
    return make_error("cannot be decoded as image/jpeg (no image data: missing start of scan)");
  auto frame = decode_frame(bytes, codec_for(info->mime));
  if (!frame) return make_error("cannot be decoded as " + info->mime + " (" + frame.error().message + ")");
  const AVFrame& decoded = **frame;
  if (decoded.width != info->width || decoded.height != info->height)
    return make_error("cannot be decoded as " + info->mime + " (the header says " + std::to_string(info->width) + "x" +
                      std::to_string(info->height) + ", the pixels are " + std::to_string(decoded.width) + "x" +
                      std::to_string(decoded.height) + ")");
  return frame_to_rgba(decoded);
}

}  // namespace anchorcast::overlay::render
