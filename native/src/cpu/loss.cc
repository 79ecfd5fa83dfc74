#include "loss.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "../core/thread_pool.h"
#include "vec_math.h"

namespace mm::cpu {
namespace {

// Rows per task: enough elements that a task outweighs the pool's hand-off cost.
int64_t row_grain(int64_t row_length) { return std::max<int64_t>(1, 32768 / std::max<int64_t>(1, row_length)); }

// log(sum(exp(x))) in one pass over the row: blocks small enough to stay in L1 are read once
// for their maximum and once (from cache) for their exponentials, and the running sum is
// rescaled whenever the maximum grows (the online softmax of Milakov & Gimelshein 2018).
double row_log_sum_exp(const float* x, int64_t V) {
  constexpr int64_t kBlock = 256;  // also bounds each f32 lane of sum_exp to 32 terms
  float m = -INFINITY;
  double s = 0;
  for (int64_t start = 0; start < V; start += kBlock) {
    const int64_t n = std::min(kBlock, V - start);
    const float block_max = max_f(x + start, n);
    if (block_max > m) {
      s *= std::exp(static_cast<double>(m) - block_max);
      m = block_max;
    }
    if (m == -INFINITY) continue;  // only -inf so far: nothing to add
    s += sum_exp(x + start, n, m);
  }
  return m + std::log(s);
}

}  // namespace

void log_softmax_gather(const float* x, int64_t rows, int64_t V, const int32_t* target, const bool* skip, float* lse, double* logp) {
  parallel_for(rows, row_grain(V), [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; i++) {
      if (skip && skip[i]) {
        lse[i] = 0;
        logp[i] = 0;
        continue;
      }
      const float* row = x + i * V;
      const double l = row_log_sum_exp(row, V);
      lse[i] = static_cast<float>(l);
      logp[i] = static_cast<double>(row[target[i]]) - l;
    }
  });
}

void softmax_minus_onehot(const float* x, int64_t rows, int64_t V, const int32_t* target, const float* lse, const double* row_scale,
                          float* out) {
  parallel_for(rows, row_grain(V), [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; i++) {
      float* o = out + i * V;
      if (row_scale[i] == 0) {
        std::memset(o, 0, static_cast<size_t>(V) * sizeof(float));
        continue;
      }
      const float* row = x + i * V;
      const float scale = static_cast<float>(row_scale[i]);
      const float shift = lse[i];
      exp_scaled(row, V, shift, scale, o);
      o[target[i]] -= scale;
    }
  });
}

double squared_error(const float* a, const float* b, int64_t n, float* none) {
  // Fixed-size blocks summed in block order: the total does not depend on the thread count.
  constexpr int64_t kBlock = 4096;
  const int64_t blocks = (n + kBlock - 1) / kBlock;
  std::vector<double> partial(static_cast<size_t>(blocks), 0.0);
  parallel_for(blocks, 4, [&](int64_t begin, int64_t end) {
    for (int64_t blk = begin; blk < end; blk++) {
      const int64_t lo = blk * kBlock, hi = std::min(n, lo + kBlock);
      double s = 0;
      for (int64_t i = lo; i < hi; i++) {
        const float d = a[i] - b[i];
        if (none) none[i] = d * d;
        s += static_cast<double>(d) * d;
      }
      partial[static_cast<size_t>(blk)] = s;
    }
  });
  double total = 0;
  for (double p : partial) total += p;
  return total;
}

void scaled_difference(const float* a, const float* b, int64_t n, double scale, const float* scale_each, float* out) {
  const float s = static_cast<float>(scale);
  parallel_for(n, 1 << 15, [&](int64_t begin, int64_t end) {
    if (scale_each) {
      for (int64_t i = begin; i < end; i++) out[i] = (a[i] - b[i]) * (s * scale_each[i]);
    } else {
      for (int64_t i = begin; i < end; i++) out[i] = (a[i] - b[i]) * s;
    }
  });
}

namespace {
struct RowCosine {
  double dot, norm_a, norm_b, clamped_a, clamped_b, cos;
};

RowCosine row_cosine(const float* a, const float* b, int64_t D, double eps) {
  double dot = 0, aa = 0, bb = 0;
  for (int64_t j = 0; j < D; j++) {
    dot += static_cast<double>(a[j]) * b[j];
    aa += static_cast<double>(a[j]) * a[j];
    bb += static_cast<double>(b[j]) * b[j];
  }
  RowCosine r;
  r.dot = dot;
  r.norm_a = std::sqrt(aa);
  r.norm_b = std::sqrt(bb);
  r.clamped_a = std::max(r.norm_a, eps);
  r.clamped_b = std::max(r.norm_b, eps);
  r.cos = dot / (r.clamped_a * r.clamped_b);
  return r;
}
}  // namespace

void cosine_distance_rows(const float* a, const float* b, int64_t rows, int64_t D, double eps, double* distance) {
  parallel_for(rows, row_grain(D), [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; i++) distance[i] = 1.0 - row_cosine(a + i * D, b + i * D, D, eps).cos;
  });
}

void cosine_distance_grad(const float* a, const float* b, int64_t rows, int64_t D, double eps, double scale, const float* grad_each,
                          float* grad_a) {
  parallel_for(rows, row_grain(D), [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; i++) {
      const float* ai = a + i * D;
      const float* bi = b + i * D;
      const RowCosine r = row_cosine(ai, bi, D, eps);
      const double g = scale * (grad_each ? grad_each[i] : 1.0);
      // d(1 - cos)/da = -(b / (|a|_c |b|_c) - cos * a / |a|^2), the second term only where the
      // norm of a is not clamped (a clamped norm is a constant).
      const double kb = -g / (r.clamped_a * r.clamped_b);
      const double ka = r.norm_a > eps ? g * r.cos / (r.norm_a * r.norm_a) : 0.0;
      for (int64_t j = 0; j < D; j++) grad_a[i * D + j] = static_cast<float>(kb * bi[j] + ka * ai[j]);
    }
  });
}

}  // namespace mm::cpu
