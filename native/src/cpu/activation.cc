#include "activation.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "../core/philox.h"
#include "../core/thread_pool.h"
#include "vec_math.h"

namespace mm::cpu {
namespace {

constexpr int64_t kGrain = 1 << 14;  // elements per task: enough to pay for waking a thread

// Rows of length `len` handed to one task.
int64_t row_grain(int64_t len) { return std::max<int64_t>(1, kGrain / std::max<int64_t>(len, 1)); }

// Runs fn(begin, end) over [0, n) in threaded chunks; fn holds a plain loop the compiler
// vectorises (every per-element function below is branch-free).
template <class F>
void elementwise(int64_t n, F fn) {
  parallel_for(n, kGrain, fn);
}

constexpr float kInvSqrt2Pi = 0.39894228040143268f;    // 1/sqrt(2 pi)
constexpr float kSqrt2OverPi = 0.79788456080286536f;   // sqrt(2/pi)
constexpr float kGeluCubic = 0.044715f;

// silu'(x) = s (1 + x (1 - s)) with s = sigmoid(x).
inline float silu_grad(float x) {
  const float s = sigmoid_f32(x);
  return s * (1.0f + x * (1.0f - s));
}

// The tanh form as x * sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x^3): the same function
// (0.5 (1 + tanh u) = sigmoid(2u)) without cancellation for small u.
inline float gelu_tanh(float x) { return x * sigmoid_f32(2.0f * kSqrt2OverPi * (x + kGeluCubic * x * x * x)); }
inline float gelu_tanh_grad(float x) {
  const float s = sigmoid_f32(2.0f * kSqrt2OverPi * (x + kGeluCubic * x * x * x));
  const float du = kSqrt2OverPi * (1.0f + 3.0f * kGeluCubic * x * x);
  return s + x * 2.0f * s * (1.0f - s) * du;
}

// ---- softmax rows ------------------------------------------------------------------------

void softmax_row(const float* x, float* y, int64_t len, bool log) {
  const float m = max_f(x, len);
  for (int64_t i = 0; i < len; i++) y[i] = exp_f32(x[i] - m);
  const double s = sum_d(y, len);  // >= 1: the maximum's term is e^0
  if (log) {
    const float log_s = static_cast<float>(std::log(s));
    for (int64_t i = 0; i < len; i++) y[i] = (x[i] - m) - log_s;
  } else {
    const float inv = static_cast<float>(1.0 / s);
    for (int64_t i = 0; i < len; i++) y[i] *= inv;
  }
}

void softmax_row_backward(const float* y, const float* dy, float* dx, int64_t len, bool log) {
  if (log) {
    const float s = static_cast<float>(sum_d(dy, len));
    for (int64_t i = 0; i < len; i++) dx[i] = dy[i] - exp_f32(y[i]) * s;
  } else {
    const float dot = dot_f(dy, y, len);
    for (int64_t i = 0; i < len; i++) dx[i] = y[i] * (dy[i] - dot);
  }
}

// Runs row_fn(in0, in1, out, len) on every line along the middle axis of [outer, len, inner].
// Lines are contiguous when inner == 1; otherwise each is gathered into scratch rows first and
// the result scattered back (softmax along a non-last axis is rare; this keeps one kernel).
template <class RowFn>
void for_each_line(int64_t outer, int64_t len, int64_t inner, const float* in0, const float* in1, float* out, RowFn row_fn) {
  if (inner == 1) {
    parallel_for(outer, row_grain(len), [&](int64_t begin, int64_t end) {
      for (int64_t row = begin; row < end; row++) {
        row_fn(in0 + row * len, in1 ? in1 + row * len : nullptr, out + row * len, len);
      }
    });
    return;
  }
  parallel_for(outer * inner, row_grain(len), [&](int64_t begin, int64_t end) {
    std::vector<float> scratch(static_cast<size_t>(3 * len));
    float *a = scratch.data(), *b = a + len, *o = b + len;
    for (int64_t line = begin; line < end; line++) {
      const int64_t base = (line / inner) * len * inner + line % inner;
      for (int64_t k = 0; k < len; k++) a[k] = in0[base + k * inner];
      if (in1) for (int64_t k = 0; k < len; k++) b[k] = in1[base + k * inner];
      row_fn(a, in1 ? b : nullptr, o, len);
      for (int64_t k = 0; k < len; k++) out[base + k * inner] = o[k];
    }
  });
}

}  // namespace

void activation(mm_activation_kind kind, const float* x, int64_t n, float* y) {
  elementwise(n, [&](int64_t begin, int64_t end) {
    switch (kind) {
      case MM_ACT_SILU:
        for (int64_t i = begin; i < end; i++) y[i] = x[i] * sigmoid_f32(x[i]);
        break;
      case MM_ACT_GELU:
        for (int64_t i = begin; i < end; i++) y[i] = x[i] * normal_cdf_f(x[i]);
        break;
      case MM_ACT_GELU_TANH:
        for (int64_t i = begin; i < end; i++) y[i] = gelu_tanh(x[i]);
        break;
    }
  });
}

void activation_backward(mm_activation_kind kind, const float* x, const float* dy, int64_t n, float* dx) {
  elementwise(n, [&](int64_t begin, int64_t end) {
    switch (kind) {
      case MM_ACT_SILU:
        for (int64_t i = begin; i < end; i++) dx[i] = dy[i] * silu_grad(x[i]);
        break;
      case MM_ACT_GELU:
        // d/dx x Phi(x) = Phi(x) + x phi(x)
        for (int64_t i = begin; i < end; i++) dx[i] = dy[i] * (normal_cdf_f(x[i]) + x[i] * kInvSqrt2Pi * exp_f32(-0.5f * x[i] * x[i]));
        break;
      case MM_ACT_GELU_TANH:
        for (int64_t i = begin; i < end; i++) dx[i] = dy[i] * gelu_tanh_grad(x[i]);
        break;
    }
  });
}

void swiglu(const float* gate, const float* up, int64_t n, float* y) {
  elementwise(n, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; i++) y[i] = gate[i] * sigmoid_f32(gate[i]) * up[i];
  });
}

void swiglu_backward(const float* gate, const float* up, const float* dy, int64_t n, float* dgate, float* dup) {
  elementwise(n, [&](int64_t begin, int64_t end) {
    if (dgate) for (int64_t i = begin; i < end; i++) dgate[i] = dy[i] * up[i] * silu_grad(gate[i]);
    if (dup) for (int64_t i = begin; i < end; i++) dup[i] = dy[i] * gate[i] * sigmoid_f32(gate[i]);
  });
}

void softmax(const float* x, int64_t outer, int64_t len, int64_t inner, bool log, float* y) {
  for_each_line(outer, len, inner, x, nullptr, y, [log](const float* xr, const float*, float* yr, int64_t n) { softmax_row(xr, yr, n, log); });
}

void softmax_backward(const float* y, const float* dy, int64_t outer, int64_t len, int64_t inner, bool log, float* dx) {
  for_each_line(outer, len, inner, y, dy, dx,
                [log](const float* yr, const float* gr, float* dxr, int64_t n) { softmax_row_backward(yr, gr, dxr, n, log); });
}

void rope(const float* x, const int32_t* positions, bool per_batch, int64_t batches, int64_t rows_per_batch, int64_t t, int64_t d,
          double base, bool inverse, float* y) {
  const int64_t half = d / 2;
  const int64_t n_pos = per_batch ? batches * t : t;
  // cos/sin of every (position, frequency) once, computed in double and rounded to f32.
  std::vector<double> inv_freq(static_cast<size_t>(half));
  for (int64_t i = 0; i < half; i++) inv_freq[i] = std::pow(base, -2.0 * static_cast<double>(i) / static_cast<double>(d));
  std::vector<float> cos_table(static_cast<size_t>(n_pos * half)), sin_table(static_cast<size_t>(n_pos * half));
  const double sign = inverse ? -1.0 : 1.0;
  parallel_for(n_pos, std::max<int64_t>(1, 1024 / std::max<int64_t>(half, 1)), [&](int64_t begin, int64_t end) {
    for (int64_t k = begin; k < end; k++) {
      for (int64_t i = 0; i < half; i++) {
        const double angle = static_cast<double>(positions[k]) * inv_freq[i];
        cos_table[k * half + i] = static_cast<float>(std::cos(angle));
        sin_table[k * half + i] = static_cast<float>(sign * std::sin(angle));
      }
    }
  });
  parallel_for(batches * rows_per_batch, row_grain(d), [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; row++) {
      const int64_t k = (per_batch ? (row / rows_per_batch) * t : 0) + row % t;
      const float* c = cos_table.data() + k * half;
      const float* s = sin_table.data() + k * half;
      const float* x1 = x + row * d;
      const float* x2 = x1 + half;
      float* y1 = y + row * d;
      float* y2 = y1 + half;
      for (int64_t i = 0; i < half; i++) {
        y1[i] = x1[i] * c[i] - x2[i] * s[i];
        y2[i] = x2[i] * c[i] + x1[i] * s[i];
      }
    }
  });
}

void dropout(const float* x, int64_t n, double p, uint64_t seed, uint64_t offset, float* y) {
  // Element i is dropped when the uniform of lane i%4 of block offset + i/4 is below p: the same
  // uniform a fill from that (seed, offset) would give (compared in double, so exactly p).
  const float scale = static_cast<float>(1.0 / (1.0 - p));
  const int64_t blocks = (n + 3) / 4;
  parallel_for(blocks, kGrain / 4, [&](int64_t begin, int64_t end) {
    for (int64_t block = begin; block < end; block++) {
      const Philox4 r = philox_block(seed, offset + static_cast<uint64_t>(block));
      for (int lane = 0; lane < 4 && block * 4 + lane < n; lane++) {
        const int64_t i = block * 4 + lane;
        y[i] = static_cast<double>(u32_to_unit(r.v[lane])) < p ? 0.0f : x[i] * scale;
      }
    }
  });
}

}  // namespace mm::cpu
