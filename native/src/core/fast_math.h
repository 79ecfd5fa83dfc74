// Branch-free f32 exp, tanh and sigmoid that the compiler can vectorise (libm calls cannot be),
// accurate to a few ulp: Cody-Waite range reduction to |r| <= ln2/2, a degree-7 polynomial
// for exp(r) (coefficients from the Cephes library's expf/tanhf, a public reference), and the
// power of two built from exponent bits. NaN propagates; overflow gives inf, underflow 0 (through
// the denormals, as libm does).
//
// Shared by the CPU and CUDA backends (MM_HOST_DEVICE). On the GPU every multiply and add is
// rounded on its own (no FMA contraction), so CUDA kernels that must reproduce the CPU's floats
// bit for bit (token sampling) get them; on the CPU these are plain operators the compiler
// vectorises.
#pragma once
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "philox.h"  // MM_HOST_DEVICE

namespace mm {

#if defined(__CUDA_ARCH__)
MM_HOST_DEVICE float fm_mul(float a, float b) { return __fmul_rn(a, b); }
MM_HOST_DEVICE float fm_add(float a, float b) { return __fadd_rn(a, b); }
#else
MM_HOST_DEVICE float fm_mul(float a, float b) { return a * b; }
MM_HOST_DEVICE float fm_add(float a, float b) { return a + b; }
#endif
MM_HOST_DEVICE float fm_sub(float a, float b) { return fm_add(a, -b); }

MM_HOST_DEVICE float float_from_bits(int32_t bits) {
  float f;
  memcpy(&f, &bits, sizeof f);
  return f;
}

MM_HOST_DEVICE int32_t bits_of(float f) {
  int32_t bits;
  memcpy(&bits, &f, sizeof bits);
  return bits;
}

// cond ? a : b through a bit mask. GCC (with its default -ftrapping-math) will not turn a ?:
// whose arms compute floats into a vector select, so the loop would stay scalar; this form
// vectorises.
MM_HOST_DEVICE float select(bool cond, float a, float b) {
  const int32_t mask = -static_cast<int32_t>(cond);
  return float_from_bits((bits_of(a) & mask) | (bits_of(b) & ~mask));
}

MM_HOST_DEVICE float exp_f32(float x) {
  // exp(88.8) overflows f32 and exp(-104) rounds to 0, so clamping there changes no result and
  // keeps n in [-150, 128]; NaN becomes 0 for the arithmetic and is restored at the end.
  float xc = x < -104.0f ? -104.0f : x;
  xc = xc > 88.8f ? 88.8f : xc;
  xc = select(x == x, xc, 0.0f);
  // n = round(x / ln2) by the 1.5 * 2^23 trick (exact for |n| < 2^22, vectorises unlike rint).
  const float n = fm_sub(fm_add(fm_mul(xc, 1.44269504088896341f), 12582912.0f), 12582912.0f);
  // r = x - n ln2 with ln2 split so n * 0.693359375 is exact.
  const float r = fm_sub(fm_sub(xc, fm_mul(n, 0.693359375f)), fm_mul(n, -2.12194440e-4f));
  float p = 1.9875691500e-4f;
  p = fm_add(fm_mul(p, r), 1.3981999507e-3f);
  p = fm_add(fm_mul(p, r), 8.3334519073e-3f);
  p = fm_add(fm_mul(p, r), 4.1665795894e-2f);
  p = fm_add(fm_mul(p, r), 1.6666665459e-1f);
  p = fm_add(fm_mul(p, r), 5.0000001201e-1f);
  p = fm_add(fm_add(fm_mul(fm_mul(p, r), r), r), 1.0f);
  // 2^n as two normal powers of two, so n down to -150 (denormal results) and up to 128 (inf)
  // need no special case.
  const int32_t ni = static_cast<int32_t>(n);
  const int32_t half = ni >> 1;
  const float y = fm_mul(fm_mul(p, float_from_bits((half + 127) << 23)), float_from_bits((ni - half + 127) << 23));
  return select(x == x, y, x);
}

MM_HOST_DEVICE float tanh_f32(float x) {
  // |x| < 0.625: odd polynomial (no cancellation near 0); else 1 - 2 / (exp(2|x|) + 1).
  const float z = x * x;
  float p = -5.70498872745e-3f;
  p = p * z + 2.06390887954e-2f;
  p = p * z - 5.37397155531e-2f;
  p = p * z + 1.33314422036e-1f;
  p = p * z - 3.33332819422e-1f;
  const float small = p * z * x + x;
  const float a = fabsf(x);
  const float big = 1.0f - 2.0f / (exp_f32(2.0f * a) + 1.0f);
  return select(a < 0.625f, small, copysignf(big, x));
}

MM_HOST_DEVICE float sigmoid_f32(float x) {
  // exp(-|x|) never overflows; for x < 0, sigmoid(x) = e / (1 + e).
  const float e = exp_f32(-fabsf(x));
  const float s = 1.0f / (1.0f + e);
  return select(x >= 0, s, e * s);
}

// Phi(x) = P(N(0, 1) <= x), the standard normal CDF, to ~3e-7 relative error in both tails
// (the lower tail is not 1 - something, so gelu(x) = x Phi(x) keeps its digits for x << 0).
// erfc(z) = t exp(-z^2 + P(t)), t = 1/(1 + z/2): the Chebyshev fit of Numerical Recipes
// (erfcc, relative error below 1.2e-7 for every z >= 0).
MM_HOST_DEVICE float normal_cdf_f(float x) {
  const float z = fabsf(x) * 0.70710678118654752f;
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
  const float upper_tail = 0.5f * t * exp_f32(p - z * z);  // P(N > |x|)
  return select(x < 0, upper_tail, 1.0f - upper_tail);
}

}  // namespace mm
