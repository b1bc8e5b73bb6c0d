// The per-row kernel of the blend: premultiplied "over" of one sprite row onto 8-bit
// samples. The scalar version is the reference the SIMD one must match bit for bit.
#pragma once

#include <cstdint>

namespace anchorcast::compositor {

inline constexpr int kOpaque = 256;  // opacity 256 = the sprite as it is

// For each i < n, with a = alpha[i], p = premul[i] (p <= a, both 0..255), o = opacity:
//   dst = round(dst * (1 - a/255 * o/256) + p * o/256)
// o = 256 (at rest) is computed in integers and correctly rounded. o < 256 (fades) is
// computed in single precision: within 0.5 + 1e-4 of the exact value.
void blend_row_scalar(uint8_t* dst, const uint8_t* premul, const uint8_t* alpha, int n, int opacity);
void blend_row_simd(uint8_t* dst, const uint8_t* premul, const uint8_t* alpha, int n, int opacity);

enum class BlendKernel { simd, scalar };

}  // namespace anchorcast::compositor
