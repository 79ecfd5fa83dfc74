// CUDA loss family: cross-entropy and token log-probabilities (one block per row, online
// log-sum-exp fused with the target gather; fused softmax-minus-onehot backward), mean squared
// error and cosine distance. Totals are reduced in double in a fixed order (det_reduce.cuh).
#include <cmath>

#include "det_reduce.cuh"
#include "loss.h"

namespace mm::cuda {
namespace {

// ---- cross-entropy / token log-probabilities ------------------------------------------------

// Threads per row: a warp for tiny vocabularies, more for long rows.
int row_threads(int64_t n) {
  if (n <= 32) return 32;
  if (n <= 64) return 64;
  if (n <= 128) return 128;
  if (n < 8192) return 256;
  return 512;
}

unsigned row_blocks(int64_t rows) { return static_cast<unsigned>(rows < 65535 * 16 ? (rows > 0 ? rows : 1) : 65535 * 16); }

// (m, s) with s = sum exp(x - m) over the elements seen; folds (m2, s2) in.
__device__ __forceinline__ void lse_merge(float& m, float& s, float m2, float s2) {
  if (m2 == -INFINITY) return;
  if (m == -INFINITY) {
    m = m2;
    s = s2;
    return;
  }
  if (m2 > m) {
    s = s * expf(m - m2) + s2;
    m = m2;
  } else {
    s += s2 * expf(m2 - m);
  }
}

// Log-sum-exp of row[0:V] over the block in one pass (every thread gets it, in double).
__device__ double row_lse(const float* row, int64_t V, float* scratch_m, float* scratch_s) {
  float m = -INFINITY, s = 0.f;
  for (int64_t j = threadIdx.x; j < V; j += blockDim.x) {
    const float v = row[j];
    if (v == -INFINITY) continue;  // exp(-inf) adds nothing (and -inf - -inf would be NaN)
    if (v > m) {
      s = (m == -INFINITY ? 0.f : s * expf(m - v)) + 1.f;
      m = v;
    } else {
      s += expf(v - m);
    }
  }
  for (int o = kWarp / 2; o > 0; o /= 2) {
    const float m2 = __shfl_xor_sync(0xffffffffu, m, o);
    const float s2 = __shfl_xor_sync(0xffffffffu, s, o);
    lse_merge(m, s, m2, s2);
  }
  const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp, warps = blockDim.x / kWarp;
  __syncthreads();  // scratch may still be read for the previous row
  if (lane == 0) {
    scratch_m[warp] = m;
    scratch_s[warp] = s;
  }
  __syncthreads();
  m = lane < warps ? scratch_m[lane] : -INFINITY;
  s = lane < warps ? scratch_s[lane] : 0.f;
  for (int o = kWarp / 2; o > 0; o /= 2) {
    const float m2 = __shfl_xor_sync(0xffffffffu, m, o);
    const float s2 = __shfl_xor_sync(0xffffffffu, s, o);
    lse_merge(m, s, m2, s2);
  }
  return static_cast<double>(m) + log(static_cast<double>(s));
}

// One block per row. Writes lse[row], and either out_rows[row] (NONE) or terms[2 row + {0, 1}]
// = (row loss, row weight) for the fixed-order total.
__global__ void ce_forward_kernel(const float* x, int64_t rows, int64_t V, const int32_t* target, const float* weights, bool has_ignore,
                                  int64_t ignore_index, bool token_log_probs, float* lse, float* out_rows, double* terms, int* flag) {
  __shared__ float scratch_m[kWarp], scratch_s[kWarp];
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const int32_t t = target[r];
    const bool skip = has_ignore && t == ignore_index;
    const bool bad = !skip && (t < 0 || t >= V);
    if (skip || bad) {  // the same for the whole block
      if (threadIdx.x == 0) {
        if (bad) report_device_error(flag, token_log_probs ? kIndexOutOfRange : kTargetOutOfRange);
        lse[r] = 0.f;
        if (out_rows) out_rows[r] = 0.f;
        if (terms) terms[2 * r] = terms[2 * r + 1] = 0.0;
      }
      continue;
    }
    const float* row = x + r * V;
    const double l = row_lse(row, V, scratch_m, scratch_s);
    if (threadIdx.x == 0) {
      const double logp = static_cast<double>(row[t]) - l;
      const double w = weights ? static_cast<double>(weights[r]) : 1.0;
      lse[r] = static_cast<float>(l);
      if (out_rows) out_rows[r] = static_cast<float>(token_log_probs ? logp : -logp * w);
      if (terms) {
        terms[2 * r] = -logp * w;
        terms[2 * r + 1] = w;
      }
    }
  }
}

// One block: total = sum of terms[2i], norm = sum of terms[2i + 1] in a fixed order; out[0] =
// total (SUM) or total / norm (MEAN; 0 when nothing was kept).
__global__ void ce_finish_kernel(const double* terms, int64_t rows, bool mean, float* out) {
  __shared__ double smem[2 * kReduceThreads];
  double v[2] = {0.0, 0.0};
  for (int64_t i = threadIdx.x; i < rows; i += blockDim.x) {
    v[0] += terms[2 * i];
    v[1] += terms[2 * i + 1];
  }
  block_sum_doubles<2>(v, smem);
  if (threadIdx.x == 0) out[0] = static_cast<float>(mean ? (v[1] == 0 ? 0.0 : v[0] / v[1]) : v[0]);
}

// One block: the MEAN normaliser of the backward, the summed weight of kept rows.
__global__ void ce_kept_weight_kernel(const int32_t* target, const float* weights, int64_t rows, bool has_ignore, int64_t ignore_index, double* norm) {
  __shared__ double smem[kReduceThreads];
  double v = 0.0;
  for (int64_t i = threadIdx.x; i < rows; i += blockDim.x) {
    if (!(has_ignore && target[i] == ignore_index)) v += weights ? static_cast<double>(weights[i]) : 1.0;
  }
  v = block_sum_double(v, smem);
  if (threadIdx.x == 0) norm[0] = v;
}

// out[r, j] = scale_r * (exp(x[r, j] - lse[r]) - (j == target[r])), one block per row, scale_r
// from the upstream gradient on the device (mode: 0 none, 1 mean, 2 sum, 3 token log-probs).
__global__ void ce_backward_kernel(const float* x, int64_t rows, int64_t V, const int32_t* target, const float* weights, bool has_ignore,
                                   int64_t ignore_index, int mode, const float* grad, const double* norm, const float* lse, float* out,
                                   int* flag) {
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const int32_t t = target[r];
    const bool skip = mode != 3 && has_ignore && t == ignore_index;
    const bool bad = !skip && (t < 0 || t >= V);
    double scale;
    if (mode == 3) {
      scale = -static_cast<double>(grad[r]);
    } else {
      double per_row = mode == 0 ? static_cast<double>(grad[r]) : static_cast<double>(grad[0]);
      if (mode == 1) per_row = norm[0] == 0 ? 0.0 : per_row / norm[0];
      scale = per_row * (weights ? static_cast<double>(weights[r]) : 1.0);
    }
    if (skip || bad) scale = 0.0;
    if (bad && threadIdx.x == 0) report_device_error(flag, mode == 3 ? kIndexOutOfRange : kTargetOutOfRange);
    float* o = out + r * V;
    if (scale == 0.0) {
      for (int64_t j = threadIdx.x; j < V; j += blockDim.x) o[j] = 0.f;
      continue;
    }
    const float* row = x + r * V;
    const float s = static_cast<float>(scale), shift = lse[r];
    for (int64_t j = threadIdx.x; j < V; j += blockDim.x) {
      float v = s * expf(row[j] - shift);
      if (j == t) v -= s;
      o[j] = v;
    }
  }
}

// ---- mean squared error ---------------------------------------------------------------------

__global__ void squared_difference_kernel(const float* a, const float* b, int64_t n, float* out) {
  for (int64_t i = global_thread(); i < n; i += grid_stride()) {
    const float d = a[i] - b[i];
    out[i] = d * d;
  }
}

// Blocks of the first stage of a fixed-order reduction over n elements: a function of n only.
int64_t partial_blocks(int64_t n) {
  const int64_t per_block = int64_t{kReduceThreads} * 16;
  const int64_t blocks = (n + per_block - 1) / per_block;
  return blocks < 1 ? 1 : blocks > 1024 ? 1024 : blocks;
}

// Block b sums (a - b)^2 (as double of the f32 difference, like the CPU) over its contiguous
// chunk [b * chunk, (b + 1) * chunk) into partial[b].
__global__ void squared_error_partial_kernel(const float* a, const float* b, int64_t n, int64_t chunk, double* partial) {
  __shared__ double smem[kReduceThreads];
  const int64_t lo = blockIdx.x * chunk, hi = lo + chunk < n ? lo + chunk : n;
  double s = 0.0;
  for (int64_t i = lo + threadIdx.x; i < hi; i += blockDim.x) {
    const float d = a[i] - b[i];
    s += static_cast<double>(d) * d;
  }
  s = block_sum_double(s, smem);
  if (threadIdx.x == 0) partial[blockIdx.x] = s;
}

// One block: out[0] = (sum of partial[0:count]) * factor.
__global__ void finish_sum_kernel(const double* partial, int64_t count, double divisor, float* out) {
  __shared__ double smem[kReduceThreads];
  double s = 0.0;
  for (int64_t i = threadIdx.x; i < count; i += blockDim.x) s += partial[i];
  s = block_sum_double(s, smem);
  if (threadIdx.x == 0) out[0] = static_cast<float>(divisor == 1.0 ? s : s / divisor);
}

// grad_a = (a - b) * (2 g_i) (per_element) or (a - b) * (2 g / divisor).
__global__ void mse_backward_kernel(const float* a, const float* b, int64_t n, const float* grad, bool per_element, double divisor, float* out) {
  const float s = per_element ? 2.0f : static_cast<float>(2.0 * static_cast<double>(grad[0]) / divisor);
  for (int64_t i = global_thread(); i < n; i += grid_stride()) out[i] = per_element ? (a[i] - b[i]) * (s * grad[i]) : (a[i] - b[i]) * s;
}

// ---- cosine distance --------------------------------------------------------------------------

struct RowCosine {
  double norm_a, clamped_a, clamped_b, cos;
};

// a.b, |a|^2, |b|^2 of one row over the block in double; every thread gets the result.
__device__ RowCosine row_cosine(const float* a, const float* b, int64_t D, double eps, double* smem) {
  double v[3] = {0.0, 0.0, 0.0};
  for (int64_t j = threadIdx.x; j < D; j += blockDim.x) {
    const double x = a[j], y = b[j];
    v[0] += x * y;
    v[1] += x * x;
    v[2] += y * y;
  }
  block_sum_doubles<3>(v, smem);
  RowCosine r;
  r.norm_a = sqrt(v[1]);
  const double norm_b = sqrt(v[2]);
  r.clamped_a = r.norm_a > eps ? r.norm_a : eps;
  r.clamped_b = norm_b > eps ? norm_b : eps;
  r.cos = v[0] / (r.clamped_a * r.clamped_b);
  return r;
}

// Threads per cosine row: a power of two (the double trees need one), at most 256.
int cosine_threads(int64_t D) {
  int t = 32;
  while (t < 256 && t < D) t *= 2;
  return t;
}

__global__ void cosine_forward_kernel(const float* a, const float* b, int64_t rows, int64_t D, double eps, float* out_rows, double* distance) {
  __shared__ double smem[3 * 256];
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const RowCosine c = row_cosine(a + r * D, b + r * D, D, eps, smem);
    if (threadIdx.x == 0) {
      if (out_rows) out_rows[r] = static_cast<float>(1.0 - c.cos);
      if (distance) distance[r] = 1.0 - c.cos;
    }
  }
}

// grad_a of sum_i g_i (1 - cos_i): g_i = grad[i] (per_row) or grad[0] / divisor.
__global__ void cosine_backward_kernel(const float* a, const float* b, int64_t rows, int64_t D, double eps, const float* grad, bool per_row,
                                       double divisor, float* grad_a) {
  __shared__ double smem[3 * 256];
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const float* ai = a + r * D;
    const float* bi = b + r * D;
    const RowCosine c = row_cosine(ai, bi, D, eps, smem);
    const double g = per_row ? static_cast<double>(grad[r]) : static_cast<double>(grad[0]) / divisor;
    // d(1 - cos)/da = -(b / (|a|_c |b|_c) - cos a / |a|^2), the second term only where a's norm
    // is not clamped (a clamped norm is a constant).
    const double kb = -g / (c.clamped_a * c.clamped_b);
    const double ka = c.norm_a > eps ? g * c.cos / (c.norm_a * c.norm_a) : 0.0;
    for (int64_t j = threadIdx.x; j < D; j += blockDim.x) grad_a[r * D + j] = static_cast<float>(kb * bi[j] + ka * ai[j]);
  }
}

}  // namespace

mm_status cross_entropy(const float* logits, int64_t rows, int64_t V, const int32_t* targets, const float* weights, bool has_ignore,
                        int64_t ignore_index, mm_reduction reduction, bool token_log_probs, float* lse, float* out) {
  note_checking_op(token_log_probs ? "tokenLogProbs" : "crossEntropy");
  int* flag = device_error_flag();
  const int threads = row_threads(V);
  if (reduction == MM_REDUCTION_NONE) {
    return launch("crossEntropy", ce_forward_kernel, row_blocks(rows), threads, 0, logits, rows, V, targets, weights, has_ignore, ignore_index,
                  token_log_probs, lse, out, static_cast<double*>(nullptr), flag);
  }
  Scratch terms;
  MM_TRY(terms.allocate(static_cast<size_t>(rows) * 2 * sizeof(double)));
  MM_TRY(launch("crossEntropy", ce_forward_kernel, rows > 0 ? row_blocks(rows) : 0u, threads, 0, logits, rows, V, targets, weights, has_ignore,
                ignore_index, token_log_probs, lse, static_cast<float*>(nullptr), terms.as<double>(), flag));
  return launch("crossEntropy (total)", ce_finish_kernel, 1, kReduceThreads, 0, terms.as<const double>(), rows, reduction == MM_REDUCTION_MEAN, out);
}

mm_status cross_entropy_backward(const float* logits, int64_t rows, int64_t V, const int32_t* targets, const float* weights, bool has_ignore,
                                 int64_t ignore_index, mm_reduction reduction, bool token_log_probs, const float* lse, const float* grad,
                                 float* grad_logits) {
  note_checking_op(token_log_probs ? "tokenLogProbs backward" : "crossEntropy backward");
  int* flag = device_error_flag();
  if (rows == 0) return MM_OK;
  Scratch norm;
  if (!token_log_probs && reduction == MM_REDUCTION_MEAN) {
    MM_TRY(norm.allocate(sizeof(double)));
    MM_TRY(launch("crossEntropy backward (kept weight)", ce_kept_weight_kernel, 1, kReduceThreads, 0, targets, weights, rows, has_ignore, ignore_index,
                  norm.as<double>()));
  }
  const int mode = token_log_probs ? 3 : static_cast<int>(reduction == MM_REDUCTION_NONE ? 0 : reduction == MM_REDUCTION_MEAN ? 1 : 2);
  return launch("crossEntropy backward", ce_backward_kernel, row_blocks(rows), row_threads(V), 0, logits, rows, V, targets, weights, has_ignore,
                ignore_index, mode, grad, norm.as<const double>(), lse, grad_logits, flag);
}

mm_status mse_loss(const float* a, const float* b, int64_t n, mm_reduction reduction, float* out) {
  if (reduction == MM_REDUCTION_NONE) {
    if (n == 0) return MM_OK;
    return launch("mseLoss", squared_difference_kernel, blocks_for(n), 256, 0, a, b, n, out);
  }
  const int64_t blocks = partial_blocks(n);
  const int64_t chunk = n == 0 ? 1 : (n + blocks - 1) / blocks;
  Scratch partial;
  MM_TRY(partial.allocate(static_cast<size_t>(blocks) * sizeof(double)));
  MM_TRY(launch("mseLoss", squared_error_partial_kernel, static_cast<unsigned>(blocks), kReduceThreads, 0, a, b, n, chunk, partial.as<double>()));
  const double divisor = reduction == MM_REDUCTION_SUM || n == 0 ? 1.0 : static_cast<double>(n);
  return launch("mseLoss (total)", finish_sum_kernel, 1, kReduceThreads, 0, partial.as<const double>(), blocks, divisor, out);
}

mm_status mse_loss_backward(const float* a, const float* b, int64_t n, mm_reduction reduction, const float* grad, float* grad_a) {
  if (n == 0) return MM_OK;
  const double divisor = reduction == MM_REDUCTION_MEAN ? static_cast<double>(n) : 1.0;
  return launch("mseLoss backward", mse_backward_kernel, blocks_for(n), 256, 0, a, b, n, grad, reduction == MM_REDUCTION_NONE, divisor, grad_a);
}

mm_status cosine_distance(const float* a, const float* b, int64_t rows, int64_t D, double eps, mm_reduction reduction, float* out) {
  const int threads = cosine_threads(D);
  if (reduction == MM_REDUCTION_NONE) {
    if (rows == 0) return MM_OK;
    return launch("cosineDistance", cosine_forward_kernel, row_blocks(rows), threads, 0, a, b, rows, D, eps, out, static_cast<double*>(nullptr));
  }
  Scratch distance;
  MM_TRY(distance.allocate(static_cast<size_t>(rows) * sizeof(double)));
  if (rows > 0) {
    MM_TRY(launch("cosineDistance", cosine_forward_kernel, row_blocks(rows), threads, 0, a, b, rows, D, eps, static_cast<float*>(nullptr),
                  distance.as<double>()));
  }
  const double divisor = reduction == MM_REDUCTION_MEAN && rows > 0 ? static_cast<double>(rows) : 1.0;
  return launch("cosineDistance (total)", finish_sum_kernel, 1, kReduceThreads, 0, distance.as<const double>(), rows, divisor, out);
}

mm_status cosine_distance_backward(const float* a, const float* b, int64_t rows, int64_t D, double eps, mm_reduction reduction, const float* grad,
                                   float* grad_a) {
  if (rows == 0 || D == 0) return MM_OK;
  // MEAN: g / rows; SUM: g (divisor 1); NONE: per row.
  const double divisor = reduction == MM_REDUCTION_MEAN ? static_cast<double>(rows) : 1.0;
  return launch("cosineDistance backward", cosine_backward_kernel, row_blocks(rows), cosine_threads(D), 0, a, b, rows, D, eps, grad,
                reduction == MM_REDUCTION_NONE, divisor, grad_a);
}

}  // namespace mm::cuda
