// CUDA diffusion family: the forward process, one reverse step, and the timestep embedding.
//
// q_sample and diffusion_step are per-row linear combinations out[i, :] = sum_k c_k(i) x_k[i, :]
// whose coefficients come from the row's timesteps. A block takes a tile of kTile consecutive
// elements of the flat [rows, D] output: its threads first compute the coefficients of the rows
// the tile touches (in double, into shared memory, as floats like the CPU kernel uses them),
// then combine the elements with consecutive threads on consecutive elements. So the double
// math runs once per row, not per element, whatever D is.
#include <cmath>

#include "common.cuh"
#include "diffusion.h"

namespace mm::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int64_t kTile = int64_t{kThreads} * 4;
constexpr int kMaxTerms = 3;

// alpha_bar_t in double from the table's hi and lo rows.
__device__ __forceinline__ double alpha_bar(const float* table, int64_t steps, int32_t t) {
  return static_cast<double>(table[t]) + static_cast<double>(table[steps + t]);
}

// What a tile needs to know to compute its rows' coefficients.
struct StepParams {
  const int32_t* t;
  const int32_t* t_prev;  // null: q_sample
  const float* table;
  int64_t steps;
  double eta, noise_scale;
  int* flag;
};

// The coefficients of row i: q_sample (signal, noise) or a reverse step (x_t, eps, noise); all
// zero (and the flag set) when the row's timesteps are invalid.
__device__ void row_coefficients(const StepParams& p, int64_t i, float (&c)[kMaxTerms]) {
  c[0] = c[1] = c[2] = 0.f;
  const int32_t t = p.t[i];
  if (t < 0 || t >= p.steps) {
    report_device_error(p.flag, kTimestepOutOfRange);
    return;
  }
  const double ab = alpha_bar(p.table, p.steps, t);
  if (!p.t_prev) {
    c[0] = static_cast<float>(sqrt(ab));
    c[1] = static_cast<float>(sqrt(1.0 - ab));
    return;
  }
  const int32_t tp = p.t_prev[i];
  if (tp < -1 || tp >= t) {
    report_device_error(p.flag, kTimestepOutOfRange);
    return;
  }
  const double ab_prev = tp < 0 ? 1.0 : alpha_bar(p.table, p.steps, tp);
  if (!(ab > 0 && ab < 1) || !(ab_prev > 0 && ab_prev <= 1)) {
    report_device_error(p.flag, kTimestepOutOfRange);
    return;
  }
  // Posterior variance of q(x_prev | x_t, x0): (1 - ab_prev) / (1 - ab_t) * (1 - ab_t / ab_prev).
  const double ratio = (1.0 - ab_prev) / (1.0 - ab) * ((ab_prev - ab) / ab_prev);
  const double variance = ratio > 0.0 ? ratio : 0.0;
  const double sigma = p.eta * sqrt(variance);
  const double rest = 1.0 - ab_prev - sigma * sigma;
  const double direction = sqrt(rest > 0.0 ? rest : 0.0);
  // x_prev = sqrt(ab_prev) x0_hat + direction eps + sigma noise_scale z, with
  // x0_hat = (x_t - sqrt(1 - ab_t) eps) / sqrt(ab_t) folded into the x_t and eps coefficients.
  c[0] = static_cast<float>(sqrt(ab_prev / ab));
  c[1] = static_cast<float>(direction - sqrt(ab_prev) * sqrt(1.0 - ab) / sqrt(ab));
  c[2] = static_cast<float>(sigma * p.noise_scale);
}

// out = c0 x0 + c1 x1 (+ c2 x2) per row; x_k null drops its term (count terms read).
__global__ void row_combination_kernel(const float* x0, const float* x1, const float* x2, int64_t rows, int64_t D, StepParams p, float* out) {
  __shared__ float coef[kMaxTerms][kTile + 1];
  const int64_t n = rows * D;
  for (int64_t start = blockIdx.x * kTile; start < n; start += int64_t{gridDim.x} * kTile) {
    const int64_t stop = start + kTile < n ? start + kTile : n;
    const int64_t first_row = start / D, last_row = (stop - 1) / D;
    __syncthreads();  // the previous tile's coefficients may still be in use
    for (int64_t r = first_row + threadIdx.x; r <= last_row; r += blockDim.x) {
      float c[kMaxTerms];
      row_coefficients(p, r, c);
      for (int k = 0; k < kMaxTerms; k++) coef[k][r - first_row] = c[k];
    }
    __syncthreads();
    for (int64_t e = start + threadIdx.x; e < stop; e += blockDim.x) {
      const int64_t local = e / D - first_row;
      float v = 0.f;
      // The CPU kernel's order: c0 x0 + c1 x1 + c2 x2, left to right.
      if (x0) v = coef[0][local] * x0[e];
      if (x1) v = x0 ? v + coef[1][local] * x1[e] : coef[1][local] * x1[e];
      if (x2) v = v + coef[2][local] * x2[e];
      out[e] = v;
    }
  }
}

unsigned tile_blocks(int64_t n) {
  const int64_t tiles = (n + kTile - 1) / kTile;
  return static_cast<unsigned>(tiles < 1 ? 1 : tiles > 65535 * 16 ? 65535 * 16 : tiles);
}

// out[i, c]: cos(t_i f_c) for c < half, sin(t_i f_{c - half}) for half <= c < 2 half, 0 in the
// odd last column; f_k = max_period^(-k / half) = exp(-log(max_period) k / half). One thread per
// output element, consecutive threads on consecutive columns.
__global__ void timestep_embedding_kernel(const void* t, bool t_is_i32, int64_t rows, int64_t dim, double log_max_period, float* out) {
  const int64_t half = dim / 2, n = rows * dim;
  for (int64_t e = global_thread(); e < n; e += grid_stride()) {
    const int64_t i = e / dim, c = e % dim;
    if (c >= 2 * half) {
      out[e] = 0.f;
      continue;
    }
    const double ti = t_is_i32 ? static_cast<double>(static_cast<const int32_t*>(t)[i]) : static_cast<double>(static_cast<const float*>(t)[i]);
    const int64_t k = c < half ? c : c - half;
    const double freq = exp(-log_max_period * static_cast<double>(k) / static_cast<double>(half));
    const double angle = ti * freq;
    out[e] = static_cast<float>(c < half ? cos(angle) : sin(angle));
  }
}

}  // namespace

mm_status q_sample(const float* x0, const float* noise, const int32_t* t, const float* table, int64_t steps, int64_t rows, int64_t D, float* out) {
  note_checking_op("qSample");
  const int64_t n = rows * D;
  if (n == 0) return MM_OK;
  const StepParams p{t, nullptr, table, steps, 0.0, 0.0, device_error_flag()};
  return launch("qSample", row_combination_kernel, tile_blocks(n), kThreads, 0, x0, noise, static_cast<const float*>(nullptr), rows, D, p, out);
}

mm_status diffusion_step(const float* xt, const float* eps, const float* noise, const int32_t* t, const int32_t* t_prev, const float* table,
                         int64_t steps, int64_t rows, int64_t D, double eta, double noise_scale, float* out) {
  note_checking_op("diffusionStep");
  const int64_t n = rows * D;
  if (n == 0) return MM_OK;
  const StepParams p{t, t_prev, table, steps, eta, noise_scale, device_error_flag()};
  return launch("diffusionStep", row_combination_kernel, tile_blocks(n), kThreads, 0, xt, eps, noise, rows, D, p, out);
}

mm_status timestep_embedding(const void* t, bool t_is_i32, int64_t rows, int64_t dim, double max_period, float* out) {
  const int64_t n = rows * dim;
  if (n == 0) return MM_OK;
  return launch("timestepEmbedding", timestep_embedding_kernel, blocks_for(n), 256, 0, t, t_is_i32, rows, dim, std::log(max_period), out);
}

}  // namespace mm::cuda
