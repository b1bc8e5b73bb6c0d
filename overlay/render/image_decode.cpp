// decode_image: asset bytes → premultiplied RGBA. The header probe (control::probe_image)
// runs first so only images within the asset caps reach libavcodec.
#include "overlay/control/image_decoder.hpp"
#include "overlay/control/image_probe.hpp"
#include "overlay/render/card_renderer.hpp"
#include "relay/codec/av_handles.hpp"

extern "C" {
#include <libavutil/pixdesc.h>
}

namespace anchorcast::overlay::render {

namespace {

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
  SwsContextPtr sws(
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
  auto frame = control::decode_image_frame(bytes, *info);
  if (!frame) return frame.error();
  return frame_to_rgba(**frame);
}

}  // namespace anchorcast::overlay::render
