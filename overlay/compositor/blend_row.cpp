#include "compositor/blend_row.hpp"

#include <emmintrin.h>  // SSE2: the x86-64 baseline, so no runtime dispatch

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

// 8 samples in 16-bit lanes; every intermediate stays <= 65408, so unsigned 16-bit
// arithmetic never wraps.
inline __m128i blend8(__m128i dst, __m128i premul, __m128i alpha, __m128i opacity, bool faded) {
  if (faded) {
    const __m128i half = _mm_set1_epi16(128);
    alpha = _mm_srli_epi16(_mm_add_epi16(_mm_mullo_epi16(alpha, opacity), half), 8);
    premul = _mm_srli_epi16(_mm_add_epi16(_mm_mullo_epi16(premul, opacity), half), 8);
  }
  const __m128i inverse = _mm_sub_epi16(_mm_set1_epi16(255), alpha);
  return _mm_add_epi16(premul, div255_round(_mm_mullo_epi16(dst, inverse)));
}

template <bool kFaded>
void blend_row_sse2(uint8_t* dst, const uint8_t* premul, const uint8_t* alpha, int n, int opacity) {
  const __m128i zero = _mm_setzero_si128();
  const __m128i o = _mm_set1_epi16(static_cast<int16_t>(opacity));
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(alpha + i));
    // Cards are mostly opaque panels inside a mostly transparent canvas: skip the
    // transparent runs (and leave those bytes untouched).
    if (_mm_movemask_epi8(_mm_cmpeq_epi8(a, zero)) == 0xFFFF) continue;
    const __m128i d = _mm_loadu_si128(reinterpret_cast<const __m128i*>(dst + i));
    const __m128i p = _mm_loadu_si128(reinterpret_cast<const __m128i*>(premul + i));
    const __m128i lo = blend8(_mm_unpacklo_epi8(d, zero), _mm_unpacklo_epi8(p, zero),
                              _mm_unpacklo_epi8(a, zero), o, kFaded);
    const __m128i hi = blend8(_mm_unpackhi_epi8(d, zero), _mm_unpackhi_epi8(p, zero),
                              _mm_unpackhi_epi8(a, zero), o, kFaded);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), _mm_packus_epi16(lo, hi));
  }
  if (i < n) blend_row_scalar(dst + i, premul + i, alpha + i, n - i, opacity);
}

}  // namespace

void blend_row_scalar(uint8_t* dst, const uint8_t* premul, const uint8_t* alpha, int n, int opacity) {
  const uint32_t o = static_cast<uint32_t>(opacity);
  for (int i = 0; i < n; ++i) {
    uint32_t a = alpha[i];
    uint32_t p = premul[i];
    if (o != kOpaque) {
      a = (a * o + 128) >> 8;
      p = (p * o + 128) >> 8;
    }
    dst[i] = static_cast<uint8_t>(p + div255_round(dst[i] * (255 - a)));
  }
}

void blend_row_simd(uint8_t* dst, const uint8_t* premul, const uint8_t* alpha, int n, int opacity) {
  if (opacity == kOpaque)
    blend_row_sse2<false>(dst, premul, alpha, n, opacity);
  else
    blend_row_sse2<true>(dst, premul, alpha, n, opacity);
}

}  // namespace anchorcast::compositor
