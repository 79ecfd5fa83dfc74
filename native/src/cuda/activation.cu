// CUDA activation family: SiLU / GELU (erf and tanh forms), SwiGLU, softmax / log-softmax along
// any axis, rotary embedding and dropout.
//
// - Pointwise ops: one grid-stride kernel per op, float4 loads/stores when every operand is
//   16-byte aligned, a scalar tail.
// - Softmax along the last axis (inner == 1): a row worker (warp or block, rowwise.cuh) per
//   row; the online softmax (running max and rescaled sum, Milakov & Gimelshein 2018) gives max
//   and sum in one read pass, merged across lanes with shuffles; a second pass writes y.
// - Softmax along another axis: [outer, len, inner] with inner > 1; a block of TX x TY threads
//   covers TX consecutive `inner` columns (coalesced: neighbouring threads read neighbouring
//   addresses) and splits `len` among its TY thread rows, which are merged in shared memory.
// - RoPE: a table of cos/sin per (position, frequency) computed in double (as the CPU does) in
//   Scratch, then one pass that rotates each (i, i + D/2) pair.
// - Dropout: one thread per Philox block of 4 elements, the CPU's mapping, so masks are identical.
#include <algorithm>

#include "../core/fast_math.h"
#include "../core/philox.h"
#include "activation.h"
#include "pointwise.cuh"
#include "rowwise.cuh"

namespace mm::cuda {
namespace {

using rowwise::aligned;
using rowwise::for_row;
using rowwise::load;
using rowwise::row_fold;
using rowwise::row_sum;
using rowwise::store;
using rowwise::Width;
using rowwise::worker;
using rowwise::workers;

constexpr int kThreads = 256;
constexpr int64_t kMaxRowWorkers = 65535 * 4;

// ---- pointwise math ----------------------------------------------------------------------

constexpr float kInvSqrt2Pi = 0.39894228040143268f;   // 1/sqrt(2 pi)
constexpr float kSqrt2OverPi = 0.79788456080286536f;  // sqrt(2/pi)
constexpr float kGeluCubic = 0.044715f;

// The CPU's sigmoid and normal CDF (core/fast_math.h), so both backends share one definition.
__device__ __forceinline__ float sigmoid(float x) { return sigmoid_f32(x); }
__device__ __forceinline__ float normal_cdf(float x) { return normal_cdf_f(x); }

__device__ __forceinline__ float silu_grad(float x) {
  const float s = sigmoid(x);
  return s * (1.f + x * (1.f - s));
}

// tanh form as x sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x^3) (0.5 (1 + tanh u) = sigmoid(2u)).
__device__ __forceinline__ float gelu_tanh_sigmoid(float x) { return sigmoid(2.f * kSqrt2OverPi * (x + kGeluCubic * x * x * x)); }

template <mm_activation_kind K>
__device__ __forceinline__ float act(float x) {
  if constexpr (K == MM_ACT_SILU) return x * sigmoid(x);
  else if constexpr (K == MM_ACT_GELU) return x * normal_cdf(x);
  else return x * gelu_tanh_sigmoid(x);
}

template <mm_activation_kind K>
__device__ __forceinline__ float act_grad(float x) {
  if constexpr (K == MM_ACT_SILU) {
    return silu_grad(x);
  } else if constexpr (K == MM_ACT_GELU) {
    return normal_cdf(x) + x * kInvSqrt2Pi * expf(-0.5f * x * x);  // Phi(x) + x phi(x)
  } else {
    const float s = gelu_tanh_sigmoid(x);
    const float du = kSqrt2OverPi * (1.f + 3.f * kGeluCubic * x * x);
    return s + x * 2.f * s * (1.f - s) * du;
  }
}

// ---- pointwise kernels (pointwise.cuh) -----------------------------------------------------

template <mm_activation_kind K>
struct ActForward {
  const float* x;
  float* y;
  template <class Wd>
  __device__ __forceinline__ void operator()(int64_t i, Wd) const {
    constexpr int W = Wd::value;
    float v[W];
    load(v, x + i);
    for (int k = 0; k < W; k++) v[k] = act<K>(v[k]);
    store(y + i, v);
  }
};

template <mm_activation_kind K>
struct ActBackward {
  const float* x;
  const float* dy;
  float* dx;
  template <class Wd>
  __device__ __forceinline__ void operator()(int64_t i, Wd) const {
    constexpr int W = Wd::value;
    float v[W], g[W];
    load(v, x + i);
    load(g, dy + i);
    for (int k = 0; k < W; k++) v[k] = g[k] * act_grad<K>(v[k]);
    store(dx + i, v);
  }
};

struct SwigluForward {
  const float* gate;
  const float* up;
  float* y;
  template <class Wd>
  __device__ __forceinline__ void operator()(int64_t i, Wd) const {
    constexpr int W = Wd::value;
    float a[W], b[W];
    load(a, gate + i);
    load(b, up + i);
    for (int k = 0; k < W; k++) a[k] = a[k] * sigmoid(a[k]) * b[k];
    store(y + i, a);
  }
};

struct SwigluBackward {
  const float* gate;
  const float* up;
  const float* dy;
  float* dgate;  // either may be null
  float* dup;
  template <class Wd>
  __device__ __forceinline__ void operator()(int64_t i, Wd) const {
    constexpr int W = Wd::value;
    float a[W], b[W], g[W], out[W];
    load(a, gate + i);
    load(g, dy + i);
    if (dgate) {
      load(b, up + i);
      for (int k = 0; k < W; k++) out[k] = g[k] * b[k] * silu_grad(a[k]);
      store(dgate + i, out);
    }
    if (dup) {
      for (int k = 0; k < W; k++) out[k] = g[k] * a[k] * sigmoid(a[k]);
      store(dup + i, out);
    }
  }
};

template <mm_activation_kind K>
mm_status activation_k(const char* what, const float* x, int64_t n, float* y) {
  return pointwise::run(what, ActForward<K>{x, y}, n, aligned(x, y));
}

template <mm_activation_kind K>
mm_status activation_backward_k(const char* what, const float* x, const float* dy, int64_t n, float* dx) {
  return pointwise::run(what, ActBackward<K>{x, dy, dx}, n, aligned(x, dy, dx));
}

// ---- softmax -----------------------------------------------------------------------------

// Running maximum and sum of exp(x - m) (online softmax).
struct MaxSum {
  float m, s;
};

__device__ __forceinline__ void online_add(MaxSum& a, float x) {
  if (x > a.m) {
    a.s = a.s * expf(a.m - x) + 1.f;  // first element: s = 0 * exp(-inf) + 1
    a.m = x;
  } else if (x != -INFINITY) {  // exp(-inf) adds nothing (and -inf - -inf would be NaN); NaN propagates
    a.s += expf(x - a.m);
  }
}

struct MaxSumOp {
  __device__ static __forceinline__ MaxSum merge(MaxSum a, MaxSum b) {
    const float m = fmaxf(a.m, b.m);
    const float sa = a.m == m ? a.s : a.s * expf(a.m - m);
    const float sb = b.m == m ? b.s : b.s * expf(b.m - m);
    return MaxSum{m, sa + sb};
  }
  __device__ static __forceinline__ MaxSum shfl_down(MaxSum v, int o) {
    return MaxSum{__shfl_down_sync(0xffffffffu, v.m, o), __shfl_down_sync(0xffffffffu, v.s, o)};
  }
  __device__ static __forceinline__ MaxSum shfl0(MaxSum v) {
    return MaxSum{__shfl_sync(0xffffffffu, v.m, 0), __shfl_sync(0xffffffffu, v.s, 0)};
  }
  __device__ static __forceinline__ MaxSum empty() { return MaxSum{-INFINITY, 0.f}; }
};

__global__ void softmax_rows_kernel(const float* x, int64_t rows, int64_t len, bool log, float* y, bool vec) {
  __shared__ MaxSum scratch[kWarp];
  for (int64_t row = worker(); row < rows; row += workers()) {
    const float* xr = x + row * len;
    MaxSum a = MaxSumOp::empty();
    for_row(len, vec, [&](int64_t i, auto width) {
      constexpr int W = decltype(width)::value;
      float v[W];
      load(v, xr + i);
      for (int k = 0; k < W; k++) online_add(a, v[k]);
    });
    a = row_fold<MaxSumOp>(a, scratch);
    const float m = a.m, log_s = logf(a.s), inv = 1.f / a.s;
    float* yr = y + row * len;
    for_row(len, vec, [&](int64_t i, auto width) {
      constexpr int W = decltype(width)::value;
      float v[W];
      load(v, xr + i);
      for (int k = 0; k < W; k++) v[k] = log ? (v[k] - m) - log_s : expf(v[k] - m) * inv;
      store(yr + i, v);
    });
  }
}

// softmax: dx = y (dy - sum(dy y)); log: dx = dy - exp(y) sum(dy).
__global__ void softmax_rows_backward_kernel(const float* y, const float* dy, int64_t rows, int64_t len, bool log, float* dx, bool vec) {
  __shared__ float scratch[kWarp];
  for (int64_t row = worker(); row < rows; row += workers()) {
    const float* yr = y + row * len;
    const float* gr = dy + row * len;
    float s = 0.f;
    for_row(len, vec, [&](int64_t i, auto width) {
      constexpr int W = decltype(width)::value;
      float v[W], g[W];
      load(v, yr + i);
      load(g, gr + i);
      for (int k = 0; k < W; k++) s += log ? g[k] : g[k] * v[k];
    });
    s = row_sum(s, scratch);
    float* dxr = dx + row * len;
    for_row(len, vec, [&](int64_t i, auto width) {
      constexpr int W = decltype(width)::value;
      float v[W], g[W];
      load(v, yr + i);
      load(g, gr + i);
      for (int k = 0; k < W; k++) v[k] = log ? g[k] - expf(v[k]) * s : v[k] * (g[k] - s);
      store(dxr + i, v);
    });
  }
}

// [outer, len, inner], inner > 1. Block (TX, TY), TX * TY == kThreads, both powers of two:
// thread (tx, ty) takes column c = blockIdx.x * TX + tx and the positions ty, ty + TY, ... of
// len; the TY partial results are merged by a tree in shared memory (fixed order).
__global__ void softmax_cols_kernel(const float* x, int64_t outer, int64_t len, int64_t inner, bool log, float* y) {
  __shared__ MaxSum part[kThreads];
  const int tx = threadIdx.x, ty = threadIdx.y, TX = blockDim.x, TY = blockDim.y;
  const int64_t c = blockIdx.x * int64_t{TX} + tx;
  const bool valid = c < inner;
  for (int64_t o = blockIdx.y; o < outer; o += gridDim.y) {
    const float* xc = x + o * len * inner + c;
    MaxSum a = MaxSumOp::empty();
    if (valid) {
      for (int64_t l = ty; l < len; l += TY) online_add(a, xc[l * inner]);
    }
    part[ty * TX + tx] = a;
    for (int h = TY / 2; h > 0; h /= 2) {
      __syncthreads();
      if (ty < h) {
        a = MaxSumOp::merge(a, part[(ty + h) * TX + tx]);
        part[ty * TX + tx] = a;
      }
    }
    __syncthreads();
    a = part[tx];
    const float log_s = logf(a.s), inv = 1.f / a.s;
    if (valid) {
      float* yc = y + o * len * inner + c;
      for (int64_t l = ty; l < len; l += TY) {
        const float v = xc[l * inner];
        yc[l * inner] = log ? (v - a.m) - log_s : expf(v - a.m) * inv;
      }
    }
    __syncthreads();  // part is reused by the next o
  }
}

__global__ void softmax_cols_backward_kernel(const float* y, const float* dy, int64_t outer, int64_t len, int64_t inner, bool log,
                                             float* dx) {
  __shared__ float part[kThreads];
  const int tx = threadIdx.x, ty = threadIdx.y, TX = blockDim.x, TY = blockDim.y;
  const int64_t c = blockIdx.x * int64_t{TX} + tx;
  const bool valid = c < inner;
  for (int64_t o = blockIdx.y; o < outer; o += gridDim.y) {
    const int64_t base = o * len * inner + c;
    float s = 0.f;
    if (valid) {
      for (int64_t l = ty; l < len; l += TY) {
        const int64_t at = base + l * inner;
        s += log ? dy[at] : dy[at] * y[at];
      }
    }
    part[ty * TX + tx] = s;
    for (int h = TY / 2; h > 0; h /= 2) {
      __syncthreads();
      if (ty < h) {
        s += part[(ty + h) * TX + tx];
        part[ty * TX + tx] = s;
      }
    }
    __syncthreads();
    s = part[tx];
    if (valid) {
      for (int64_t l = ty; l < len; l += TY) {
        const int64_t at = base + l * inner;
        const float v = y[at], g = dy[at];
        dx[at] = log ? g - expf(v) * s : v * (g - s);
      }
    }
    __syncthreads();
  }
}

// Block shape of the column kernels: TX = the power of two >= inner, at most 32.
dim3 cols_block(int64_t inner) {
  int tx = 1;
  while (tx < kWarp && tx < inner) tx *= 2;
  return dim3(static_cast<unsigned>(tx), static_cast<unsigned>(kThreads / tx));
}

dim3 cols_grid(int64_t outer, int64_t inner, const dim3& block) {
  return dim3(static_cast<unsigned>((inner + block.x - 1) / block.x), static_cast<unsigned>(std::min<int64_t>(outer, 65535)));
}

// ---- rope --------------------------------------------------------------------------------

// cos/sin of every (position k, frequency i) in double, rounded to f32, as the CPU computes them;
// sin negated for the inverse rotation.
__global__ void rope_table_kernel(const int32_t* positions, int64_t n_pos, int64_t half, int64_t d, double base, bool inverse,
                                  float* cos_table, float* sin_table) {
  for (int64_t idx = global_thread(); idx < n_pos * half; idx += grid_stride()) {
    const int64_t k = idx / half, i = idx % half;
    const double inv_freq = pow(base, -2.0 * static_cast<double>(i) / static_cast<double>(d));
    const double angle = static_cast<double>(positions[k]) * inv_freq;
    cos_table[idx] = static_cast<float>(cos(angle));
    sin_table[idx] = static_cast<float>(inverse ? -sin(angle) : sin(angle));
  }
}

// Block (TX, TY): TY rows per block, TX threads over a row's pairs (i, i + half), 4 at a time
// when vec. Row r of a batch is at time step r % t.
__global__ void rope_kernel(const float* x, const float* cos_table, const float* sin_table, bool per_batch, int64_t rows,
                            int64_t rows_per_batch, int64_t t, int64_t half, float* y, bool vec) {
  for (int64_t row = blockIdx.x * int64_t{blockDim.y} + threadIdx.y; row < rows; row += int64_t{gridDim.x} * blockDim.y) {
    const int64_t k = (per_batch ? (row / rows_per_batch) * t : 0) + row % t;
    const float* c = cos_table + k * half;
    const float* s = sin_table + k * half;
    const float* x1 = x + row * 2 * half;
    const float* x2 = x1 + half;
    float* y1 = y + row * 2 * half;
    float* y2 = y1 + half;
    auto rotate = [&](int64_t i, auto width) {
      constexpr int W = decltype(width)::value;
      float a[W], b[W], cv[W], sv[W], o1[W], o2[W];
      load(a, x1 + i);
      load(b, x2 + i);
      load(cv, c + i);
      load(sv, s + i);
      for (int q = 0; q < W; q++) {
        o1[q] = a[q] * cv[q] - b[q] * sv[q];
        o2[q] = b[q] * cv[q] + a[q] * sv[q];
      }
      store(y1 + i, o1);
      store(y2 + i, o2);
    };
    if (vec) {
      for (int64_t j = threadIdx.x; j < half / 4; j += blockDim.x) rotate(j * 4, Width<4>{});
    } else {
      for (int64_t i = threadIdx.x; i < half; i += blockDim.x) rotate(i, Width<1>{});
    }
  }
}

// ---- dropout -----------------------------------------------------------------------------

// Element i is dropped when the uniform of lane i % 4 of Philox block offset + i / 4 is below p
// (compared in double, as the CPU); kept elements are scaled by 1 / (1 - p) rounded to f32.
__global__ void dropout_kernel(const float* x, int64_t n, double p, float scale, uint64_t seed, uint64_t offset, float* y, bool vec) {
  const int64_t blocks = (n + 3) / 4;
  for (int64_t b = global_thread(); b < blocks; b += grid_stride()) {
    const Philox4 r = philox_block(seed, offset + static_cast<uint64_t>(b));
    const int64_t i = b * 4;
    if (vec && i + 4 <= n) {
      float v[4];
      load(v, x + i);
      for (int lane = 0; lane < 4; lane++) v[lane] = static_cast<double>(u32_to_unit(r.v[lane])) < p ? 0.f : v[lane] * scale;
      store(y + i, v);
    } else {
      for (int lane = 0; lane < 4 && i + lane < n; lane++) {
        y[i + lane] = static_cast<double>(u32_to_unit(r.v[lane])) < p ? 0.f : x[i + lane] * scale;
      }
    }
  }
}

}  // namespace

mm_status activation(mm_activation_kind kind, const float* x, int64_t n, float* y) {
  switch (kind) {
    case MM_ACT_SILU: return activation_k<MM_ACT_SILU>("silu", x, n, y);
    case MM_ACT_GELU: return activation_k<MM_ACT_GELU>("gelu", x, n, y);
    case MM_ACT_GELU_TANH: return activation_k<MM_ACT_GELU_TANH>("gelu(tanh)", x, n, y);
  }
  return fail(MM_ERR_ARG, "activation: unknown kind %d", static_cast<int>(kind));
}

mm_status activation_backward(mm_activation_kind kind, const float* x, const float* dy, int64_t n, float* dx) {
  switch (kind) {
    case MM_ACT_SILU: return activation_backward_k<MM_ACT_SILU>("silu backward", x, dy, n, dx);
    case MM_ACT_GELU: return activation_backward_k<MM_ACT_GELU>("gelu backward", x, dy, n, dx);
    case MM_ACT_GELU_TANH: return activation_backward_k<MM_ACT_GELU_TANH>("gelu(tanh) backward", x, dy, n, dx);
  }
  return fail(MM_ERR_ARG, "activation backward: unknown kind %d", static_cast<int>(kind));
}

mm_status swiglu(const float* gate, const float* up, int64_t n, float* y) {
  return pointwise::run("swiglu", SwigluForward{gate, up, y}, n, aligned(gate, up, y));
}

mm_status swiglu_backward(const float* gate, const float* up, const float* dy, int64_t n, float* dgate, float* dup) {
  if (!dgate && !dup) return MM_OK;
  return pointwise::run("swiglu backward", SwigluBackward{gate, up, dy, dgate, dup}, n, aligned(gate, up, dy, dgate, dup));
}

mm_status softmax(const float* x, int64_t outer, int64_t len, int64_t inner, bool log, float* y) {
  const char* what = log ? "logSoftmax" : "softmax";
  if (outer == 0 || len == 0 || inner == 0) return MM_OK;
  if (inner == 1) {
    const rowwise::RowLaunch l = rowwise::row_launch(outer, len, kMaxRowWorkers);
    return launch(what, softmax_rows_kernel, l.grid, l.block, 0, x, outer, len, log, y, len % 4 == 0 && aligned(x, y));
  }
  const dim3 block = cols_block(inner);
  return launch(what, softmax_cols_kernel, cols_grid(outer, inner, block), block, 0, x, outer, len, inner, log, y);
}

mm_status softmax_backward(const float* y, const float* dy, int64_t outer, int64_t len, int64_t inner, bool log, float* dx) {
  const char* what = log ? "logSoftmax backward" : "softmax backward";
  if (outer == 0 || len == 0 || inner == 0) return MM_OK;
  if (inner == 1) {
    const rowwise::RowLaunch l = rowwise::row_launch(outer, len, kMaxRowWorkers);
    return launch(what, softmax_rows_backward_kernel, l.grid, l.block, 0, y, dy, outer, len, log, dx, len % 4 == 0 && aligned(y, dy, dx));
  }
  const dim3 block = cols_block(inner);
  return launch(what, softmax_cols_backward_kernel, cols_grid(outer, inner, block), block, 0, y, dy, outer, len, inner, log, dx);
}

mm_status rope(const float* x, const int32_t* positions, bool per_batch, int64_t batches, int64_t rows_per_batch, int64_t t, int64_t d,
               double base, bool inverse, float* y) {
  const int64_t half = d / 2, rows = batches * rows_per_batch;
  if (rows == 0 || half == 0) return MM_OK;
  const int64_t n_pos = per_batch ? batches * t : t;
  Scratch table;
  MM_TRY(table.allocate(static_cast<size_t>(2 * n_pos * half) * sizeof(float)));
  float* cos_table = table.as<float>();
  float* sin_table = cos_table + n_pos * half;
  MM_TRY(launch("rope", rope_table_kernel, blocks_for(n_pos * half, kThreads), kThreads, 0, positions, n_pos, half, d, base, inverse,
                cos_table, sin_table));
  // The tables' rows start 16-byte aligned when half % 4 == 0 (Scratch memory is).
  const bool vec = half % 4 == 0 && aligned(x, y);
  const int64_t per_row = vec ? half / 4 : half;
  int tx = 1;
  while (tx < 128 && tx < per_row) tx *= 2;
  const int ty = kThreads / tx;
  const int64_t blocks = std::min<int64_t>((rows + ty - 1) / ty, 65535 * 16);
  return launch("rope", rope_kernel, dim3(static_cast<unsigned>(blocks)), dim3(tx, ty), 0, x, cos_table, sin_table, per_batch, rows,
                rows_per_batch, t, half, y, vec);
}

mm_status dropout(const float* x, int64_t n, double p, uint64_t seed, uint64_t offset, float* y) {
  if (n == 0) return MM_OK;
  const float scale = static_cast<float>(1.0 / (1.0 - p));
  return launch("dropout", dropout_kernel, blocks_for((n + 3) / 4, kThreads), kThreads, 0, x, n, p, scale, seed, offset, y, aligned(x, y));
}

}  // namespace mm::cuda
