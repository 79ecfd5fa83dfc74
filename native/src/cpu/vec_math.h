// Vectorisable building blocks for the CPU kernels. The build has no -ffast-math, so the
// compiler neither vectorises libm calls nor reorders float reductions on its own: the math
// functions of core/fast_math.h are branch-free arithmetic that a plain loop turns into SIMD,
// and the row reductions keep 8 independent lanes (a fixed order, so results do not depend on
// threads either).
#pragma once
#include <cstdint>
#include <cmath>
#include <cstring>
#include <limits>

#include "../core/fast_math.h"  // select, exp_f32, sigmoid_f32, normal_cdf_f: one exp for every kernel

namespace mm::cpu {

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

// Sum of exp(x[i] - shift): 8 float lanes (callers keep n small, e.g. <= 256 per block, so each
// lane adds at most n / 8 terms) folded into a double. For softmax-style rows (cross-entropy
// over a vocabulary, token sampling).
inline double sum_exp(const float* x, int64_t n, float shift) {
  float lane[8] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int j = 0; j < 8; j++) lane[j] += exp_f32(x[i + j] - shift);
  }
  double s = 0;
  for (; i < n; i++) s += exp_f32(x[i] - shift);
  for (int j = 0; j < 8; j++) s += lane[j];
  return s;
}

// out[i] = scale * exp(x[i] - shift)
inline void exp_scaled(const float* x, int64_t n, float shift, float scale, float* out) {
  for (int64_t i = 0; i < n; i++) out[i] = scale * exp_f32(x[i] - shift);
}

}  // namespace mm::cpu
