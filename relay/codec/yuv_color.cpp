#include "relay/codec/yuv_color.hpp"

namespace anchorcast::codec {

YuvColor yuv_color_of(AVColorSpace colorspace, AVColorRange range, int height) {
  YuvColor color;
  switch (colorspace) {
    case AVCOL_SPC_BT709:
      color.matrix = YuvMatrix::bt709;
      break;
    // Same Kr/Kb as BT.601 (H.264 Table E-5 lists them together).
    case AVCOL_SPC_BT470BG:
    case AVCOL_SPC_SMPTE170M:
      color.matrix = YuvMatrix::bt601;
      break;
    default:
      color.matrix = height >= 720 ? YuvMatrix::bt709 : YuvMatrix::bt601;
      break;
  }
  color.range = range == AVCOL_RANGE_JPEG ? YuvRange::full : YuvRange::limited;
  return color;
}

YuvColor yuv_color_of(const AVFrame& frame) {
  const AVColorRange range = frame.format == AV_PIX_FMT_YUVJ420P ? AVCOL_RANGE_JPEG : frame.color_range;
  return yuv_color_of(frame.colorspace, range, frame.height);
}

bool is_yuv420p_8bit(const AVFrame& frame) {
  return frame.format == AV_PIX_FMT_YUV420P || frame.format == AV_PIX_FMT_YUVJ420P;
}

}  // namespace anchorcast::codec
