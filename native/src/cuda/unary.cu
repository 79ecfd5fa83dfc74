// CUDA unary family: one grid-stride pass per op, the op a template argument (no per-element
// dispatch), with float4 loads and stores when every pointer is 16-byte aligned. The formulas are
// the CPU backend's (cpu/unary.cc) with CUDA's libm-accurate expf/tanhf/powf in place of the
// CPU's polynomial approximations, so results agree to a few ulp.
#include <cstdint>

#include "common.cuh"
#include "unary.h"

namespace mm::cuda {
namespace {

constexpr int kThreads = 256;

template <int Op>
__device__ __forceinline__ float forward(float v, float p0, float p1) {
  switch (Op) {
    case MM_UNARY_NEG: return -v;
    case MM_UNARY_EXP: return expf(v);
    case MM_UNARY_LOG: return logf(v);
    case MM_UNARY_SQRT: return sqrtf(v);
    case MM_UNARY_RSQRT: return 1.0f / sqrtf(v);
    case MM_UNARY_TANH: return tanhf(v);
    case MM_UNARY_SIGMOID: {
      // exp(-|x|) never overflows; for x < 0, sigmoid(x) = e / (1 + e).
      const float e = expf(-fabsf(v));
      const float s = 1.0f / (1.0f + e);
      return v >= 0 ? s : e * s;
    }
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
__global__ void unary_kernel(const float* __restrict__ x, float* __restrict__ y, int64_t n, float p0, float p1, bool vec4) {
  int64_t tail = 0;
  if (vec4) {
    const int64_t n4 = n / 4;
    const float4* x4 = reinterpret_cast<const float4*>(x);
    float4* y4 = reinterpret_cast<float4*>(y);
    for (int64_t i = global_thread(); i < n4; i += grid_stride()) {
      float4 v = x4[i];
      v.x = forward<Op>(v.x, p0, p1);
      v.y = forward<Op>(v.y, p0, p1);
      v.z = forward<Op>(v.z, p0, p1);
      v.w = forward<Op>(v.w, p0, p1);
      y4[i] = v;
    }
    tail = n4 * 4;
  }
  for (int64_t i = tail + global_thread(); i < n; i += grid_stride()) y[i] = forward<Op>(x[i], p0, p1);
}

// s may be null for the ops that read nothing (it is then never dereferenced).
template <int Op>
__global__ void unary_backward_kernel(const float* __restrict__ s, const float* __restrict__ g, float* __restrict__ dx, int64_t n, float p0,
                                      float p1, bool vec4) {
  int64_t tail = 0;
  if (vec4) {
    const int64_t n4 = n / 4;
    const float4* g4 = reinterpret_cast<const float4*>(g);
    const float4* s4 = reinterpret_cast<const float4*>(s);
    float4* dx4 = reinterpret_cast<float4*>(dx);
    for (int64_t i = global_thread(); i < n4; i += grid_stride()) {
      const float4 d = g4[i];
      const float4 v = reads_nothing(Op) ? d : s4[i];
      float4 r;
      r.x = backward<Op>(d.x, v.x, p0, p1);
      r.y = backward<Op>(d.y, v.y, p0, p1);
      r.z = backward<Op>(d.z, v.z, p0, p1);
      r.w = backward<Op>(d.w, v.w, p0, p1);
      dx4[i] = r;
    }
    tail = n4 * 4;
  }
  for (int64_t i = tail + global_thread(); i < n; i += grid_stride()) {
    const float d = g[i];
    dx[i] = backward<Op>(d, reads_nothing(Op) ? d : s[i], p0, p1);
  }
}

bool aligned16(const void* p) { return p == nullptr || reinterpret_cast<uintptr_t>(p) % 16 == 0; }

unsigned grid_for(int64_t n, bool vec4) { return blocks_for(vec4 ? (n + 3) / 4 : n, kThreads); }

template <int Op>
mm_status run_forward(const float* x, float* y, int64_t n, float p0, float p1) {
  const bool vec4 = aligned16(x) && aligned16(y);
  return launch("unary", unary_kernel<Op>, grid_for(n, vec4), kThreads, 0, x, y, n, p0, p1, vec4);
}

template <int Op>
mm_status run_backward(const float* s, const float* g, float* dx, int64_t n, float p0, float p1) {
  const bool vec4 = aligned16(s) && aligned16(g) && aligned16(dx);
  return launch("unaryBackward", unary_backward_kernel<Op>, grid_for(n, vec4), kThreads, 0, s, g, dx, n, p0, p1, vec4);
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
