// Which Y'CbCr matrix and range a frame uses, so what is drawn into it (the compositor's
// sprites) and what re-encodes it (the encoder's VUI) convert the way the decoder's pixels
// were made.
#pragma once

extern "C" {
#include <libavutil/frame.h>
#include <libavutil/pixfmt.h>
}

namespace anchorcast::codec {

enum class YuvMatrix { bt601, bt709 };
enum class YuvRange { limited, full };  // limited: Y 16..235, C 16..240 ("tv"); full: 0..255 ("pc", JPEG)

struct YuvColor {
  YuvMatrix matrix = YuvMatrix::bt709;
  YuvRange range = YuvRange::limited;
  friend bool operator==(YuvColor, YuvColor) = default;
};

// The source decides (VUI matrix_coefficients / video_full_range_flag as libavcodec
// reports them). Unspecified: what players assume — BT.709 from 720 lines up, BT.601
// below (SD), limited range.
YuvColor yuv_color_of(AVColorSpace colorspace, AVColorRange range, int height);
YuvColor yuv_color_of(const AVFrame& frame);

// True for the 8-bit 4:2:0 layouts we decode, blend and encode (yuvj420p is the same
// layout, tagged full range by older decoders).
bool is_yuv420p_8bit(const AVFrame& frame);

}  // namespace anchorcast::codec
