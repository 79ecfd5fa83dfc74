// Vectorisable building blocks for the CPU kernels. The build has no -ffast-math, so the
// compiler neither vectorises libm calls nor reorders float reductions on its own: exp_f is
// branch-free arithmetic that a plain loop turns into SIMD, and the row reductions keep 8
// independent lanes (a fixed order, so results do not depend on threads either).
#pragma once
#include <cstdint>
#include <cmath>
#include <cstring>
#include <limits>

namespace mm::cpu {

// cond ? a : b as bit operations. A plain `?:` whose arm is computed only for it (y = c ? 0 : f(x))
// is a branch to GCC, which will not speculate trapping float math to vectorise it.
inline float select_f(bool cond, float a, float b) {
  const uint32_t mask = 0u - static_cast<uint32_t>(cond);
  uint32_t ua, ub;
  std::memcpy(&ua, &a, sizeof ua);
  std::memcpy(&ub, &b, sizeof ub);
  const uint32_t bits = (ua & mask) | (ub & ~mask);
  float out;
  std::memcpy(&out, &bits, sizeof out);
  return out;
}

// e^x to about 2 ulp. x = n ln2 + r with |r| <= ln2/2; e^r by the degree-6 minimax polynomial
// of Cephes' expf; 2^n written into the exponent bits. Returns +inf above 88.37 (the true
// overflow is at 88.72; stopping early keeps 2^n a normal float), 0 below -87.33 (where e^x
// leaves the normal range), NaN for NaN.
inline float exp_f(float x) {
  constexpr float kHi = 88.37f, kLo = -87.33f;
  // Clamped with `x > k` tests rather than std::min: NaN falls through instead of being clamped.
  float c = select_f(x > kHi, kHi, x);
  c = select_f(c < kLo, kLo, c);
  // Round c*log2(e) to the nearest integer with the 1.5*2^23 shifter: the sum's low mantissa
  // bits hold n (no float-to-int conversion, which is undefined for NaN).
  constexpr float kShifter = 12582912.0f;
  const float shifted = c * 1.44269504088896341f + kShifter;
  const float n = shifted - kShifter;
  uint32_t shifted_bits;
  std::memcpy(&shifted_bits, &shifted, sizeof shifted_bits);
  // ln2 split in two (Cody-Waite) so n * kLn2Hi is exact.
  float r = c - n * 0.693359375f;
  r = r + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float er = p * r * r + r + 1.0f;
  const uint32_t scale_bits = (shifted_bits - 0x4B400000u + 127u) << 23;  // 2^n, n in [-126, 127]
  float scale;
  std::memcpy(&scale, &scale_bits, sizeof scale);
  const float y = select_f(x > kHi, std::numeric_limits<float>::infinity(), er * scale);
  return select_f(x < kLo, 0.0f, y);
}

// Phi(x) = P(N(0, 1) <= x), the standard normal CDF, to ~3e-7 relative error in both tails
// (the lower tail is not 1 - something, so gelu(x) = x Phi(x) keeps its digits for x << 0).
// erfc(z) = t exp(-z^2 + P(t)), t = 1/(1 + z/2): the Chebyshev fit of Numerical Recipes
// (erfcc, relative error below 1.2e-7 for every z >= 0).
inline float normal_cdf_f(float x) {
  const float z = std::fabs(x) * 0.70710678118654752f;
  const float t = 1.0f / (1.0f + 0.5f * z);
  float p = 0.17087277f;
  p = p * t - 0.82215223f;
  p = p * t + 1.48851587f;
  p = p * t - 1.13520398f;
  p = p * t + 0.27886807f;
  p = p * t - 0.18628806f;
  p = p * t + 0.09678418f;
  p = p * t + 0.37409196f;
  p = p * t + 1.00002368f;
  p = p * t - 1.26551223f;
  const float upper_tail = 0.5f * t * exp_f(p - z * z);  // P(N > |x|)
  return select_f(x < 0, upper_tail, 1.0f - upper_tail);
}

// 1 / (1 + e^-x): exactly 0 or 1 in the tails, never NaN for finite x.
inline float sigmoid_f(float x) { return 1.0f / (1.0f + exp_f(-x)); }

// ---- row reductions (8 lanes, then the lanes in a fixed order) ----------------------------

inline float max_f(const float* x, int64_t n) {
  float lane[8];
  for (int j = 0; j < 8; j++) lane[j] = -std::numeric_limits<float>::infinity();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int j = 0; j < 8; j++) lane[j] = x[i + j] > lane[j] ? x[i + j] : lane[j];
  }
  float m = -std::numeric_limits<float>::infinity();
  for (; i < n; i++) m = x[i] > m ? x[i] : m;
  for (int j = 0; j < 8; j++) m = lane[j] > m ? lane[j] : m;
  return m;
}

inline float sum_f(const float* x, int64_t n) {
  float lane[8] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int j = 0; j < 8; j++) lane[j] += x[i + j];
  }
  float s = 0;
  for (; i < n; i++) s += x[i];
  for (int j = 0; j < 8; j++) s += lane[j];
  return s;
}

inline float dot_f(const float* a, const float* b, int64_t n) {
  float lane[8] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int j = 0; j < 8; j++) lane[j] += a[i + j] * b[i + j];
  }
  float s = 0;
  for (; i < n; i++) s += a[i] * b[i];
  for (int j = 0; j < 8; j++) s += lane[j];
  return s;
}

// Sum of x and of (x - center)^2 in double: normalisation statistics that stay exact enough for
// rows of large values (|x| ~ 1e4 with unit spread) and do not overflow for |x| up to 1e19.
inline double sum_d(const float* x, int64_t n) {
  double lane[4] = {};
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    for (int j = 0; j < 4; j++) lane[j] += x[i + j];
  }
  double s = 0;
  for (; i < n; i++) s += x[i];
  return s + (lane[0] + lane[1]) + (lane[2] + lane[3]);
}

inline double centered_sumsq_d(const float* x, int64_t n, double center) {
  double lane[4] = {};
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    for (int j = 0; j < 4; j++) {
      const double d = x[i + j] - center;
      lane[j] += d * d;
    }
  }
  double s = 0;
  for (; i < n; i++) {
    const double d = x[i] - center;
    s += d * d;
  }
  return s + (lane[0] + lane[1]) + (lane[2] + lane[3]);
}

}  // namespace mm::cpu
