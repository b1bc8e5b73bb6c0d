#include "overlay/compositor/blend_row.hpp"

#include <emmintrin.h>  // SSE2: the x86-64 baseline, so no runtime dispatch

#include <algorithm>
#include <cmath>

namespace anchorcast::compositor {
namespace {

// round(x / 255) for 0 <= x <= 65025 (Blinn, "Three wrongs make a right", 1995).
inline uint32_t div255_round(uint32_t x) {
  x += 128;
  return (x + (x >> 8)) >> 8;
}

inline __m128i div255_round(__m128i x) {
  x = _mm_add_epi16(x, _mm_set1_epi16(128));
  return _mm_srli_epi16(_mm_add_epi16(x, _mm_srli_epi16(x, 8)), 8);
}

// At rest: 8 samples in 16-bit lanes; every intermediate stays <= 65407, so unsigned
// 16-bit arithmetic never wraps.
inline __m128i blend8_opaque(__m128i dst, __m128i premul, __m128i alpha) {
  const __m128i inverse = _mm_sub_epi16(_mm_set1_epi16(255), alpha);
  return _mm_add_epi16(premul, div255_round(_mm_mullo_epi16(dst, inverse)));
}

// Fading: the exact result needs a division by 255 * 256 of a 24-bit value; single
// precision holds every operand exactly and errs by < 1e-4. The scalar reference does
// the same operations in the same order (no FMA on the x86-64 baseline), so the two
// agree bit for bit, and both round to nearest-even like lrintf.
struct FadeFactors {
  float coverage;  // opacity / (255 * 256): alpha byte -> coverage
  float premul;    // opacity / 256
};

inline FadeFactors fade_factors(int opacity) {
  return {static_cast<float>(opacity) / 65280.0f, static_cast<float>(opacity) / 256.0f};
}

inline uint8_t blend1_faded(uint8_t dst, uint8_t premul, uint8_t alpha, FadeFactors k) {
  const float d = dst;
  const float c = static_cast<float>(alpha) * k.coverage;
  const float r = d + (static_cast<float>(premul) * k.premul - d * c);
  return static_cast<uint8_t>(std::clamp(std::lrintf(r), 0L, 255L));
}

// 4 samples in 32-bit lanes.
inline __m128i blend4_faded(__m128i dst, __m128i premul, __m128i alpha, __m128 coverage_k, __m128 premul_k) {
  const __m128 d = _mm_cvtepi32_ps(dst);
  const __m128 c = _mm_mul_ps(_mm_cvtepi32_ps(alpha), coverage_k);
  const __m128 r = _mm_add_ps(d, _mm_sub_ps(_mm_mul_ps(_mm_cvtepi32_ps(premul), premul_k), _mm_mul_ps(d, c)));
  return _mm_cvtps_epi32(r);  // MXCSR default: round to nearest-even
}

inline __m128i blend8_faded(__m128i dst, __m128i premul, __m128i alpha, __m128 coverage_k, __m128 premul_k) {
  const __m128i zero = _mm_setzero_si128();
  const __m128i lo = blend4_faded(_mm_unpacklo_epi16(dst, zero), _mm_unpacklo_epi16(premul, zero),
                                  _mm_unpacklo_epi16(alpha, zero), coverage_k, premul_k);
  const __m128i hi = blend4_faded(_mm_unpackhi_epi16(dst, zero), _mm_unpackhi_epi16(premul, zero),
                                  _mm_unpackhi_epi16(alpha, zero), coverage_k, premul_k);
  return _mm_packs_epi32(lo, hi);
}

template <bool kFaded>
void blend_row_sse2(uint8_t* dst, const uint8_t* premul, const uint8_t* alpha, int n, int opacity) {
  const __m128i zero = _mm_setzero_si128();
  const FadeFactors k = fade_factors(opacity);
  const __m128 coverage_k = _mm_set1_ps(k.coverage);
  const __m128 premul_k = _mm_set1_ps(k.premul);
  auto blend8 = [&](__m128i d, __m128i p, __m128i a) {
    if constexpr (kFaded)
      return blend8_faded(d, p, a, coverage_k, premul_k);
    else
      return blend8_opaque(d, p, a);
  };
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(alpha + i));
    // Cards are mostly opaque panels inside a mostly transparent canvas: skip the
    // transparent runs (and leave those bytes untouched).
    if (_mm_movemask_epi8(_mm_cmpeq_epi8(a, zero)) == 0xFFFF) continue;
    const __m128i d = _mm_loadu_si128(reinterpret_cast<const __m128i*>(dst + i));
    const __m128i p = _mm_loadu_si128(reinterpret_cast<const __m128i*>(premul + i));
    const __m128i lo = blend8(_mm_unpacklo_epi8(d, zero), _mm_unpacklo_epi8(p, zero), _mm_unpacklo_epi8(a, zero));
    const __m128i hi = blend8(_mm_unpackhi_epi8(d, zero), _mm_unpackhi_epi8(p, zero), _mm_unpackhi_epi8(a, zero));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), _mm_packus_epi16(lo, hi));
  }
  if (i < n) blend_row_scalar(dst + i, premul + i, alpha + i, n - i, opacity);
}

}  // namespace

void blend_row_scalar(uint8_t* dst, const uint8_t* premul, const uint8_t* alpha, int n, int opacity) {
  if (opacity == kOpaque) {
    for (int i = 0; i < n; ++i) dst[i] = static_cast<uint8_t>(premul[i] + div255_round(dst[i] * (255u - alpha[i])));
    return;
  }
  const FadeFactors k = fade_factors(opacity);
  for (int i = 0; i < n; ++i) dst[i] = blend1_faded(dst[i], premul[i], alpha[i], k);
}

void blend_row_simd(uint8_t* dst, const uint8_t* premul, const uint8_t* alpha, int n, int opacity) {
  if (opacity == kOpaque)
    blend_row_sse2<false>(dst, premul, alpha, n, opacity);
  else
    blend_row_sse2<true>(dst, premul, alpha, n, opacity);
}

}  // namespace anchorcast::compositor
