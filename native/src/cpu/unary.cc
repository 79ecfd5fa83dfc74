#include "unary.h"

#include <cmath>

#include "../core/thread_pool.h"
#include "../core/fast_math.h"

namespace mm::cpu {
namespace {

// Elements per parallel_for chunk: a chunk of the cheapest op still outweighs scheduling.
constexpr int64_t kGrain = 1 << 14;

// The op is a template argument so each loop is a plain, vectorisable pass (no per-element
// dispatch).
template <class F>
void map(const float* a, float* out, int64_t n, F f) {
  parallel_for(n, kGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; i++) out[i] = f(a[i]);
  });
}

template <class F>
void map2(const float* a, const float* b, float* out, int64_t n, F f) {
  parallel_for(n, kGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; i++) out[i] = f(a[i], b[i]);
  });
}

}  // namespace

void unary(mm_unary_op op, const float* x, float* y, int64_t n, float p0, float p1) {
  switch (op) {
    case MM_UNARY_NEG: return map(x, y, n, [](float v) { return -v; });
    case MM_UNARY_EXP: return map(x, y, n, [](float v) { return exp_f32(v); });
    case MM_UNARY_LOG: return map(x, y, n, [](float v) { return std::log(v); });
    case MM_UNARY_SQRT: return map(x, y, n, [](float v) { return std::sqrt(v); });
    case MM_UNARY_RSQRT: return map(x, y, n, [](float v) { return 1.0f / std::sqrt(v); });
    case MM_UNARY_TANH: return map(x, y, n, [](float v) { return tanh_f32(v); });
    case MM_UNARY_SIGMOID: return map(x, y, n, [](float v) { return sigmoid_f32(v); });
    // v > 0 ? v : 0 would turn NaN into 0; this keeps NaN.
    case MM_UNARY_RELU: return map(x, y, n, [](float v) { return v < 0 ? 0.0f : v; });
    case MM_UNARY_ABS: return map(x, y, n, [](float v) { return std::fabs(v); });
    case MM_UNARY_SQUARE: return map(x, y, n, [](float v) { return v * v; });
    case MM_UNARY_AFFINE: return map(x, y, n, [=](float v) { return p0 * v + p1; });
    case MM_UNARY_POW:
      if (p0 == 2.0f) return map(x, y, n, [](float v) { return v * v; });
      return map(x, y, n, [=](float v) { return std::pow(v, p0); });
    case MM_UNARY_CLAMP: return map(x, y, n, [=](float v) { return v < p0 ? p0 : (v > p1 ? p1 : v); });
  }
}

void unary_backward(mm_unary_op op, const float* x, const float* y, const float* g, float* dx, int64_t n, float p0, float p1) {
  switch (op) {
    case MM_UNARY_NEG: return map(g, dx, n, [](float d) { return -d; });
    case MM_UNARY_AFFINE: return map(g, dx, n, [=](float d) { return d * p0; });
    case MM_UNARY_EXP: return map2(g, y, dx, n, [](float d, float v) { return d * v; });
    case MM_UNARY_SQRT: return map2(g, y, dx, n, [](float d, float v) { return d * 0.5f / v; });
    case MM_UNARY_RSQRT: return map2(g, y, dx, n, [](float d, float v) { return d * -0.5f * v * v * v; });
    case MM_UNARY_TANH: return map2(g, y, dx, n, [](float d, float v) { return d * (1.0f - v * v); });
    case MM_UNARY_SIGMOID: return map2(g, y, dx, n, [](float d, float v) { return d * v * (1.0f - v); });
    case MM_UNARY_RELU: return map2(g, y, dx, n, [](float d, float v) { return v > 0 ? d : 0.0f; });
    case MM_UNARY_LOG: return map2(g, x, dx, n, [](float d, float v) { return d / v; });
    case MM_UNARY_ABS: return map2(g, x, dx, n, [](float d, float v) { return v > 0 ? d : (v < 0 ? -d : 0.0f); });
    case MM_UNARY_SQUARE: return map2(g, x, dx, n, [](float d, float v) { return 2.0f * v * d; });
    case MM_UNARY_POW:
      // d/dx x^0 is 0 everywhere (pow(0, -1) would make it NaN at 0).
      if (p0 == 0.0f) return map(g, dx, n, [](float) { return 0.0f; });
      if (p0 == 2.0f) return map2(g, x, dx, n, [](float d, float v) { return 2.0f * v * d; });
      return map2(g, x, dx, n, [=](float d, float v) { return d * p0 * std::pow(v, p0 - 1.0f); });
    case MM_UNARY_CLAMP: return map2(g, x, dx, n, [=](float d, float v) { return v >= p0 && v <= p1 ? d : 0.0f; });
  }
}

}  // namespace mm::cpu
