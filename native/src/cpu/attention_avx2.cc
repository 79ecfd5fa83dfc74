// Attention kernels for AVX2 + FMA (8 floats per vector, 16 registers): the code in
// attention_impl.inl compiled for this ISA only; attention.cc calls it when the CPU has AVX2 and
// FMA but not AVX-512 (checked at run time).
#include "attention_kernels.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#endif
#include <immintrin.h>

namespace mm::cpu::attention_detail {
namespace {

struct Vec {
  __m256 v;
};
constexpr int kWidth = 8;
constexpr int kFwdVecs = 2;  // query rows per forward block: kWidth * kFwdVecs
constexpr int kBwdVecs = 2;  // keys per backward block: kWidth * kBwdVecs
constexpr int kScoreRows = 6;  // 6 x 2 accumulators
constexpr int kPvRows = 6;
constexpr int kBwdRows = 2;  // S and dP tiles: 2 x 2 x 2 accumulators

inline Vec vzero() { return {_mm256_setzero_ps()}; }
inline Vec vbroadcast(float x) { return {_mm256_set1_ps(x)}; }
inline Vec vload(const float* p) { return {_mm256_loadu_ps(p)}; }
inline __m256i first_lanes(int64_t n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
inline Vec vload_partial(const float* p, int64_t n) { return {_mm256_maskload_ps(p, first_lanes(n))}; }
inline void vstore(float* p, Vec a) { _mm256_storeu_ps(p, a.v); }
inline void vstore_partial(float* p, int64_t n, Vec a) { _mm256_maskstore_ps(p, first_lanes(n), a.v); }
inline Vec vadd(Vec a, Vec b) { return {_mm256_add_ps(a.v, b.v)}; }
inline Vec vsub(Vec a, Vec b) { return {_mm256_sub_ps(a.v, b.v)}; }
inline Vec vmul(Vec a, Vec b) { return {_mm256_mul_ps(a.v, b.v)}; }
inline Vec vdiv(Vec a, Vec b) { return {_mm256_div_ps(a.v, b.v)}; }
inline Vec vfma(Vec a, Vec b, Vec c) { return {_mm256_fmadd_ps(a.v, b.v, c.v)}; }
inline Vec vmax(Vec a, Vec b) { return {_mm256_max_ps(a.v, b.v)}; }
inline Vec vmin(Vec a, Vec b) { return {_mm256_min_ps(a.v, b.v)}; }
inline Vec vround(Vec a) { return {_mm256_round_ps(a.v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)}; }
inline Vec vpow2i(Vec n) {
  return {_mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n.v), _mm256_set1_epi32(127)), 23))};
}
inline Vec vselect_lt(Vec a, Vec b, Vec x, Vec y) { return {_mm256_blendv_ps(y.v, x.v, _mm256_cmp_ps(a.v, b.v, _CMP_LT_OQ))}; }
inline float vhsum(Vec a) {
  const __m128 s = _mm_add_ps(_mm256_castps256_ps128(a.v), _mm256_extractf128_ps(a.v, 1));
  const __m128 t = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(t, _mm_movehdup_ps(t)));
}

// dst[c * ds + r] = src[r * ss + c] for an 8 x 8 tile.
inline void vtranspose_tile(const float* src, int64_t ss, float* dst, int64_t ds) {
  __m256 r[8], a[8];
  for (int i = 0; i < 8; i++) r[i] = _mm256_loadu_ps(src + i * ss);
  // In 128-bit lane L, r[4j + c] ends up holding column 4L + c of rows 4j .. 4j + 3.
  for (int i = 0; i < 8; i += 2) {
    a[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
    a[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int j = 0; j < 8; j += 4) {
    const __m256d a0 = _mm256_castps_pd(a[j]), a1 = _mm256_castps_pd(a[j + 1]);
    const __m256d a2 = _mm256_castps_pd(a[j + 2]), a3 = _mm256_castps_pd(a[j + 3]);
    r[j] = _mm256_castpd_ps(_mm256_unpacklo_pd(a0, a2));
    r[j + 1] = _mm256_castpd_ps(_mm256_unpackhi_pd(a0, a2));
    r[j + 2] = _mm256_castpd_ps(_mm256_unpacklo_pd(a1, a3));
    r[j + 3] = _mm256_castpd_ps(_mm256_unpackhi_pd(a1, a3));
  }
  for (int c = 0; c < 4; c++) {
    _mm256_storeu_ps(dst + c * ds, _mm256_permute2f128_ps(r[c], r[4 + c], 0x20));
    _mm256_storeu_ps(dst + (4 + c) * ds, _mm256_permute2f128_ps(r[c], r[4 + c], 0x31));
  }
}

#include "attention_impl.inl"

}  // namespace

const Kernels* kernels_avx2() {
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? make_kernels("avx2") : nullptr;
}

}  // namespace mm::cpu::attention_detail

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
#else
namespace mm::cpu::attention_detail {
const Kernels* kernels_avx2() { return nullptr; }
}  // namespace mm::cpu::attention_detail
#endif
