// Decoded AVFrames as blend targets.
#pragma once

extern "C" {
#include <libavutil/frame.h>
}

#include "anchorcast/core/result.hpp"
#include "overlay/compositor/yuv_blend.hpp"
#include "relay/codec/yuv_color.hpp"

namespace anchorcast::compositor {

// The planes of `frame`, which must be is_yuv420p_8bit.
YuvFrameRef yuv_frame_ref(AVFrame& frame);

// Copies `decoded` into `out`, reusing out's buffers when size and format match. A
// decoded frame shares its buffers with the decoder's reference pictures: blending into
// it would corrupt every later P-frame, so overlays are drawn into a copy. Carries pts
// and colour properties; `out` stays writable (a fresh buffer if another reference holds it).
Status copy_for_blending(const AVFrame& decoded, AVFrame& out);

}  // namespace anchorcast::compositor
