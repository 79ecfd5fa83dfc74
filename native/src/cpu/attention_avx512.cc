// Attention kernels for AVX-512 (16 floats per vector, 32 registers): the code in
// attention_impl.inl compiled for this ISA only; attention.cc calls it when the CPU has
// AVX-512F (checked at run time), so the rest of the library keeps the baseline ISA.
#include "attention_kernels.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx2,fma"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx2,fma")
// GCC 12 flags the intrinsics' own _mm512_undefined_ps() placeholders (a known false positive).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

namespace mm::cpu::attention_detail {
namespace {

struct Vec {
  __m512 v;
};
constexpr int kWidth = 16;
constexpr int kFwdVecs = 2;  // query rows per forward block: kWidth * kFwdVecs
constexpr int kBwdVecs = 2;  // keys per backward block: kWidth * kBwdVecs
constexpr int kScoreRows = 8;  // 8 x 2 accumulators
constexpr int kPvRows = 8;
constexpr int kBwdRows = 4;  // S and dP tiles: 2 x 4 x 2 accumulators

inline Vec vzero() { return {_mm512_setzero_ps()}; }
inline Vec vbroadcast(float x) { return {_mm512_set1_ps(x)}; }
inline Vec vload(const float* p) { return {_mm512_loadu_ps(p)}; }
inline Vec vload_partial(const float* p, int64_t n) { return {_mm512_maskz_loadu_ps(static_cast<__mmask16>((1u << n) - 1), p)}; }
inline void vstore(float* p, Vec a) { _mm512_storeu_ps(p, a.v); }
inline void vstore_partial(float* p, int64_t n, Vec a) { _mm512_mask_storeu_ps(p, static_cast<__mmask16>((1u << n) - 1), a.v); }
inline Vec vadd(Vec a, Vec b) { return {_mm512_add_ps(a.v, b.v)}; }
inline Vec vsub(Vec a, Vec b) { return {_mm512_sub_ps(a.v, b.v)}; }
inline Vec vmul(Vec a, Vec b) { return {_mm512_mul_ps(a.v, b.v)}; }
inline Vec vdiv(Vec a, Vec b) { return {_mm512_div_ps(a.v, b.v)}; }
inline Vec vfma(Vec a, Vec b, Vec c) { return {_mm512_fmadd_ps(a.v, b.v, c.v)}; }
inline Vec vmax(Vec a, Vec b) { return {_mm512_max_ps(a.v, b.v)}; }
inline Vec vmin(Vec a, Vec b) { return {_mm512_min_ps(a.v, b.v)}; }
inline Vec vround(Vec a) { return {_mm512_roundscale_ps(a.v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)}; }
// 2^n for integral n in [-126, 127], by building the exponent bits.
inline Vec vpow2i(Vec n) {
  return {_mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n.v), _mm512_set1_epi32(127)), 23))};
}
inline Vec vselect_lt(Vec a, Vec b, Vec x, Vec y) { return {_mm512_mask_blend_ps(_mm512_cmp_ps_mask(a.v, b.v, _CMP_LT_OQ), y.v, x.v)}; }
inline float vhsum(Vec a) { return _mm512_reduce_add_ps(a.v); }

// dst[c * ds + r] = src[r * ss + c] for a 16 x 16 tile.
inline void vtranspose_tile(const float* src, int64_t ss, float* dst, int64_t ds) {
  __m512 r[16], a[16];
  for (int i = 0; i < 16; i++) r[i] = _mm512_loadu_ps(src + i * ss);
  // Interleave pairs of rows, then pairs of pairs: in 128-bit lane L, b[4j + c] holds column
  // 4L + c of rows 4j .. 4j + 3.
  for (int i = 0; i < 16; i += 2) {
    a[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
    a[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int j = 0; j < 16; j += 4) {
    const __m512d a0 = _mm512_castps_pd(a[j]), a1 = _mm512_castps_pd(a[j + 1]);
    const __m512d a2 = _mm512_castps_pd(a[j + 2]), a3 = _mm512_castps_pd(a[j + 3]);
    r[j] = _mm512_castpd_ps(_mm512_unpacklo_pd(a0, a2));
    r[j + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a0, a2));
    r[j + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(a1, a3));
    r[j + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(a1, a3));
  }
  // Output row 4L + c gathers 128-bit lane L of r[c], r[4 + c], r[8 + c], r[12 + c].
  for (int c = 0; c < 4; c++) {
    const __m512 e0 = _mm512_shuffle_f32x4(r[c], r[4 + c], 0x44), e1 = _mm512_shuffle_f32x4(r[c], r[4 + c], 0xEE);
    const __m512 e2 = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0x44), e3 = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0xEE);
    _mm512_storeu_ps(dst + c * ds, _mm512_shuffle_f32x4(e0, e2, 0x88));
    _mm512_storeu_ps(dst + (4 + c) * ds, _mm512_shuffle_f32x4(e0, e2, 0xDD));
    _mm512_storeu_ps(dst + (8 + c) * ds, _mm512_shuffle_f32x4(e1, e3, 0x88));
    _mm512_storeu_ps(dst + (12 + c) * ds, _mm512_shuffle_f32x4(e1, e3, 0xDD));
  }
}

#include "attention_impl.inl"

}  // namespace

const Kernels* kernels_avx512() { return __builtin_cpu_supports("avx512f") ? make_kernels("avx512") : nullptr; }

}  // namespace mm::cpu::attention_detail

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
#else
namespace mm::cpu::attention_detail {
const Kernels* kernels_avx512() { return nullptr; }
}  // namespace mm::cpu::attention_detail
#endif
