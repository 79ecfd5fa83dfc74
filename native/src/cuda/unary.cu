// CUDA unary family: one grid-stride pass per op (pointwise.cuh), the op a template argument (no
// per-element dispatch), with float4 loads and stores when every pointer is 16-byte aligned. The
// formulas are the CPU backend's (cpu/unary.cc); exp/tanh/pow use CUDA's libm-accurate functions
// in place of the CPU's polynomial approximations (results agree to a few ulp), sigmoid is the
// shared core/fast_math.h one.
#include <cstdint>

#include "../core/fast_math.h"
#include "pointwise.cuh"
#include "unary.h"

namespace mm::cuda {
namespace {

template <int Op>
__device__ __forceinline__ float forward(float v, float p0, float p1) {
  switch (Op) {
    case MM_UNARY_NEG: return -v;
    case MM_UNARY_EXP: return expf(v);
    case MM_UNARY_LOG: return logf(v);
    case MM_UNARY_SQRT: return sqrtf(v);
    case MM_UNARY_RSQRT: return 1.0f / sqrtf(v);
    case MM_UNARY_TANH: return tanhf(v);
    case MM_UNARY_SIGMOID: return sigmoid_f32(v);  // the CPU's (core/fast_math.h)
    case MM_UNARY_RELU: return v < 0 ? 0.0f : v;  // keeps NaN
    case MM_UNARY_ABS: return fabsf(v);
    case MM_UNARY_SQUARE: return v * v;
    case MM_UNARY_AFFINE: return p0 * v + p1;
    case MM_UNARY_POW: return p0 == 2.0f ? v * v : powf(v, p0);
    default: return v < p0 ? p0 : (v > p1 ? p1 : v);  // clamp; NaN stays NaN
  }
}

// d: upstream gradient; s: the saved operand the rule reads (x or y, see mm_unary_backward).
template <int Op>
__device__ __forceinline__ float backward(float d, float s, float p0, float p1) {
  switch (Op) {
    case MM_UNARY_NEG: return -d;
    case MM_UNARY_AFFINE: return d * p0;
    case MM_UNARY_EXP: return d * s;
    case MM_UNARY_SQRT: return d * 0.5f / s;
    case MM_UNARY_RSQRT: return d * -0.5f * s * s * s;
    case MM_UNARY_TANH: return d * (1.0f - s * s);
    case MM_UNARY_SIGMOID: return d * s * (1.0f - s);
    case MM_UNARY_RELU: return s > 0 ? d : 0.0f;
    case MM_UNARY_LOG: return d / s;
    case MM_UNARY_ABS: return s > 0 ? d : (s < 0 ? -d : 0.0f);
    case MM_UNARY_SQUARE: return 2.0f * s * d;
    case MM_UNARY_POW:
      // d/dx x^0 is 0 everywhere (pow(0, -1) would make it NaN at 0).
      if (p0 == 0.0f) return 0.0f;
      if (p0 == 2.0f) return 2.0f * s * d;
      return d * p0 * powf(s, p0 - 1.0f);
    default: return s >= p0 && s <= p1 ? d : 0.0f;  // clamp
  }
}

// Ops whose backward reads no saved operand.
constexpr bool reads_nothing(int op) { return op == MM_UNARY_NEG || op == MM_UNARY_AFFINE; }


template <int Op>
struct UnaryForward {
  const float* x;
  float* y;
  float p0, p1;
  template <class Wd>
  __device__ __forceinline__ void operator()(int64_t i, Wd) const {
    constexpr int W = Wd::value;
    float v[W];
    rowwise::load(v, x + i);
    for (int k = 0; k < W; k++) v[k] = forward<Op>(v[k], p0, p1);
    rowwise::store(y + i, v);
  }
};

// s may be null for the ops that read nothing (it is then never dereferenced).
template <int Op>
struct UnaryBackward {
  const float* s;
  const float* g;
  float* dx;
  float p0, p1;
  template <class Wd>
  __device__ __forceinline__ void operator()(int64_t i, Wd) const {
    constexpr int W = Wd::value;
    float d[W], v[W];
    rowwise::load(d, g + i);
    if constexpr (reads_nothing(Op)) {
      for (int k = 0; k < W; k++) v[k] = d[k];
    } else {
      rowwise::load(v, s + i);
    }
    for (int k = 0; k < W; k++) d[k] = backward<Op>(d[k], v[k], p0, p1);
    rowwise::store(dx + i, d);
  }
};

template <int Op>
mm_status run_forward(const float* x, float* y, int64_t n, float p0, float p1) {
  return pointwise::run("unary", UnaryForward<Op>{x, y, p0, p1}, n, rowwise::aligned(x, y));
}

template <int Op>
mm_status run_backward(const float* s, const float* g, float* dx, int64_t n, float p0, float p1) {
  return pointwise::run("unaryBackward", UnaryBackward<Op>{s, g, dx, p0, p1}, n, rowwise::aligned(s, g, dx));
}

}  // namespace

#define MM_UNARY_CASES(X)                                                                                              \
  X(MM_UNARY_NEG) X(MM_UNARY_EXP) X(MM_UNARY_LOG) X(MM_UNARY_SQRT) X(MM_UNARY_RSQRT) X(MM_UNARY_TANH) X(MM_UNARY_SIGMOID) \
  X(MM_UNARY_RELU) X(MM_UNARY_ABS) X(MM_UNARY_SQUARE) X(MM_UNARY_AFFINE) X(MM_UNARY_POW) X(MM_UNARY_CLAMP)

mm_status unary(mm_unary_op op, const float* x, float* y, int64_t n, float p0, float p1) {
  if (n == 0) return MM_OK;
  switch (op) {
#define MM_CASE(OP) \
  case OP: return run_forward<OP>(x, y, n, p0, p1);
    MM_UNARY_CASES(MM_CASE)
#undef MM_CASE
  }
  return fail(MM_ERR_ARG, "unary: unknown op %d", static_cast<int>(op));
}

mm_status unary_backward(mm_unary_op op, const float* x, const float* y, const float* g, float* dx, int64_t n, float p0, float p1) {
  if (n == 0) return MM_OK;
  const float* s = x ? x : y;
  switch (op) {
#define MM_CASE(OP) \
  case OP: return run_backward<OP>(s, g, dx, n, p0, p1);
    MM_UNARY_CASES(MM_CASE)
#undef MM_CASE
  }
  return fail(MM_ERR_ARG, "unaryBackward: unknown op %d", static_cast<int>(op));
}

}  // namespace mm::cuda
