// The per-row kernel of the blend: premultiplied "over" of one sprite row onto 8-bit
// samples. The scalar version is the reference the SIMD one must match bit for bit.
#pragma once

#include <cstdint>

namespace anchorcast::compositor {

inline constexpr int kOpaque = 256;  // opacity 256 = the sprite as it is

// For each i < n, with a = alpha[i], p = premul[i] (p <= a, both 0..255):
//   opacity 256:  dst = p + round(dst * (255 - a) / 255)  — correctly rounded
//   opacity o < 256: a and p are first scaled to round(a*o/256), round(p*o/256), then as
//   above. Those two extra roundings put a fading frame within 1.5 (not 0.5) of the
//   exact value; fades last ~250 ms and this keeps the whole kernel in 16-bit lanes.
void blend_row_scalar(uint8_t* dst, const uint8_t* premul, const uint8_t* alpha, int n, int opacity);
void blend_row_simd(uint8_t* dst, const uint8_t* premul, const uint8_t* alpha, int n, int opacity);

enum class BlendKernel { simd, scalar };

}  // namespace anchorcast::compositor
