// Vectorised exp / max / sum-of-exp over float rows, for softmax-style kernels (cross-entropy
// over a vocabulary, token sampling). std::exp is a libm call per element, and the compiler will
// not vectorise a hand-written branch-free exp either under the default -ftrapping-math, so the
// x86-64 path uses SSE2 intrinsics (part of the x86-64 baseline); other CPUs and loop tails use
// the scalar twin, which performs the same float operations (so the same bits, unless a build
// with FMA enabled fuses its multiply-adds).
//
// exp: range reduction x = n ln2 + r, |r| <= ln2 / 2 (ln2 split so n * ln2_hi is exact), exp(r)
// by its Taylor series to degree 7 (truncation < 5e-9 relative), 2^n written into the exponent
// bits. Max relative error 1.5e-7 measured (a few float ulps; tests/ops/loss.test.ts checks
// 1e-6 against Math.exp). About 1.1 ns per element on one x86 core, std::exp 3.5 ns.
// x < -87.3 (and -inf) gives exactly 0, x > 88.3 saturates there, NaN stays NaN.
#pragma once
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace mm::cpu {

namespace vec_detail {
constexpr float kLow = -87.3f, kHigh = 88.3f;
constexpr float kShifter = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer
constexpr float kLog2e = 1.44269504088896341f, kLn2Hi = 0.693359375f, kLn2Lo = -2.12194440e-4f;
constexpr float kC7 = 1.0f / 5040, kC6 = 1.0f / 720, kC5 = 1.0f / 120, kC4 = 1.0f / 24, kC3 = 1.0f / 6, kC2 = 0.5f;
}  // namespace vec_detail

inline float exp_f32(float x) {
  using namespace vec_detail;
  const float keep = x >= kLow ? 1.0f : 0.0f;
  float xc = kLow > x ? kLow : x;  // as _mm_max_ps(kLow, x): NaN passes through
  xc = kHigh < xc ? kHigh : xc;
  const float n = (xc * kLog2e + kShifter) - kShifter;
  const float r = (xc - n * kLn2Hi) - n * kLn2Lo;
  // Estrin's scheme: shorter dependency chains than Horner (25% faster measured), same terms.
  const float r2 = r * r, r4 = r2 * r2;
  const float p03 = (1.0f + r) + r2 * (kC2 + kC3 * r);
  const float p47 = (kC4 + kC5 * r) + r2 * (kC6 + kC7 * r);
  const float p = p03 + r4 * p47;
  const int32_t bits = (static_cast<int32_t>(n == n ? n : 0.0f) + 127) * (1 << 23);
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale * keep;
}

#if defined(__SSE2__)
inline __m128 exp_f32x4(__m128 x) {
  using namespace vec_detail;
  const __m128 low = _mm_set1_ps(kLow);
  const __m128 keep = _mm_and_ps(_mm_cmpge_ps(x, low), _mm_set1_ps(1.0f));
  __m128 xc = _mm_max_ps(low, x);
  xc = _mm_min_ps(_mm_set1_ps(kHigh), xc);
  const __m128 shifter = _mm_set1_ps(kShifter);
  const __m128 n = _mm_sub_ps(_mm_add_ps(_mm_mul_ps(xc, _mm_set1_ps(kLog2e)), shifter), shifter);
  const __m128 r = _mm_sub_ps(_mm_sub_ps(xc, _mm_mul_ps(n, _mm_set1_ps(kLn2Hi))), _mm_mul_ps(n, _mm_set1_ps(kLn2Lo)));
  const __m128 r2 = _mm_mul_ps(r, r), r4 = _mm_mul_ps(r2, r2);
  const __m128 p01 = _mm_add_ps(_mm_set1_ps(1.0f), r);
  const __m128 p23 = _mm_add_ps(_mm_set1_ps(kC2), _mm_mul_ps(_mm_set1_ps(kC3), r));
  const __m128 p45 = _mm_add_ps(_mm_set1_ps(kC4), _mm_mul_ps(_mm_set1_ps(kC5), r));
  const __m128 p67 = _mm_add_ps(_mm_set1_ps(kC6), _mm_mul_ps(_mm_set1_ps(kC7), r));
  const __m128 p = _mm_add_ps(_mm_add_ps(p01, _mm_mul_ps(r2, p23)), _mm_mul_ps(r4, _mm_add_ps(p45, _mm_mul_ps(r2, p67))));
  const __m128i bits = _mm_slli_epi32(_mm_add_epi32(_mm_cvttps_epi32(n), _mm_set1_epi32(127)), 23);
  return _mm_mul_ps(_mm_mul_ps(p, _mm_castsi128_ps(bits)), keep);
}
#endif

// Largest element (NaNs are skipped; callers see them through exp). -inf for n == 0.
inline float max_of(const float* x, int64_t n) {
  int64_t i = 0;
  float m = -INFINITY;
#if defined(__SSE2__)
  __m128 acc = _mm_set1_ps(-INFINITY);
  for (; i + 4 <= n; i += 4) acc = _mm_max_ps(_mm_loadu_ps(x + i), acc);
  float lanes[4];
  _mm_storeu_ps(lanes, acc);
  for (float v : lanes) m = v > m ? v : m;
#endif
  for (; i < n; i++) m = x[i] > m ? x[i] : m;
  return m;
}

// sum of exp(x[i] - shift), float lanes (callers keep n small, e.g. <= 256, so each lane adds
// at most n / 8 terms) folded into a double.
inline double sum_exp(const float* x, int64_t n, float shift) {
  int64_t i = 0;
  double s = 0;
#if defined(__SSE2__)
  const __m128 sh = _mm_set1_ps(shift);
  __m128 acc0 = _mm_setzero_ps(), acc1 = _mm_setzero_ps();  // two chains: the adds overlap
  for (; i + 8 <= n; i += 8) {
    acc0 = _mm_add_ps(acc0, exp_f32x4(_mm_sub_ps(_mm_loadu_ps(x + i), sh)));
    acc1 = _mm_add_ps(acc1, exp_f32x4(_mm_sub_ps(_mm_loadu_ps(x + i + 4), sh)));
  }
  if (i + 4 <= n) {
    acc0 = _mm_add_ps(acc0, exp_f32x4(_mm_sub_ps(_mm_loadu_ps(x + i), sh)));
    i += 4;
  }
  float lanes[8];
  _mm_storeu_ps(lanes, acc0);
  _mm_storeu_ps(lanes + 4, acc1);
  for (float v : lanes) s += v;
#endif
  for (; i < n; i++) s += exp_f32(x[i] - shift);
  return s;
}

// out[i] = scale * exp(x[i] - shift)
inline void exp_scaled(const float* x, int64_t n, float shift, float scale, float* out) {
  int64_t i = 0;
#if defined(__SSE2__)
  const __m128 sh = _mm_set1_ps(shift), sc = _mm_set1_ps(scale);
  for (; i + 4 <= n; i += 4) _mm_storeu_ps(out + i, _mm_mul_ps(sc, exp_f32x4(_mm_sub_ps(_mm_loadu_ps(x + i), sh))));
#endif
  for (; i < n; i++) out[i] = scale * exp_f32(x[i] - shift);
}

}  // namespace mm::cpu
