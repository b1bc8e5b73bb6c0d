#include "overlay/compositor/av_yuv_frame.hpp"

extern "C" {
#include <libavutil/pixdesc.h>
}

#include "relay/codec/av_handles.hpp"

namespace anchorcast::compositor {

YuvFrameRef yuv_frame_ref(AVFrame& frame) {
  YuvFrameRef ref;
  for (int p = 0; p < 3; ++p) {
    ref.data[p] = frame.data[p];
    ref.linesize[p] = frame.linesize[p];
  }
  ref.width = frame.width;
  ref.height = frame.height;
  return ref;
}

Status copy_for_blending(const AVFrame& decoded, AVFrame& out) {
  if (!is_yuv420p_8bit(decoded)) {
    const char* name = av_get_pix_fmt_name(static_cast<AVPixelFormat>(decoded.format));
    return make_error(std::string("cannot composite pixel format ") + (name ? name : "unknown") +
                      ": only 8-bit 4:2:0 video is supported");
  }
  const bool same_shape =
      out.buf[0] && out.width == decoded.width && out.height == decoded.height && out.format == decoded.format;
  if (!same_shape) {
    av_frame_unref(&out);
    out.width = decoded.width;
    out.height = decoded.height;
    out.format = decoded.format;
    if (int err = av_frame_get_buffer(&out, 0); err < 0)
      return make_error("cannot allocate a " + std::to_string(decoded.width) + "x" +
                        std::to_string(decoded.height) + " frame: " + av_error_text(err));
  } else if (int err = av_frame_make_writable(&out); err < 0) {
    return make_error("cannot make the blend frame writable: " + av_error_text(err));
  }
  if (int err = av_frame_copy(&out, &decoded); err < 0)
    return make_error("cannot copy the decoded frame: " + av_error_text(err));
  out.pts = decoded.pts;
  out.colorspace = decoded.colorspace;
  out.color_range = decoded.color_range;
  out.color_primaries = decoded.color_primaries;
  out.color_trc = decoded.color_trc;
  out.sample_aspect_ratio = decoded.sample_aspect_ratio;
  return {};
}

}  // namespace anchorcast::compositor
