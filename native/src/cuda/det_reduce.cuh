// Deterministic reductions in double for the loss, optimiser and sampling kernels: values that
// the CPU backend returns as a double (loss totals, sums of squares) stay on the device and are
// summed in a fixed order that depends only on the sizes (never on timing, the device or float
// atomics), so the same inputs give the same bits on every run.
//
// The pattern is two-stage: a grid of blocks each sums a fixed contiguous range into partial[b]
// (per-thread accumulation in a fixed stride order, then a shared-memory tree), and one block
// folds the partials in the same way. The trees use shared memory, not shuffles, so they work
// for double on every target the kernels build for.
#pragma once
#include "common.cuh"

namespace mm::cuda {

// Threads of the reduction kernels here (a power of two, fixed so results do not depend on
// the launch configuration of the caller).
constexpr int kReduceThreads = 256;

// Tree sum of one double per thread over the block (blockDim.x a power of two <= 1024).
// `smem` holds blockDim.x doubles. Every thread gets the total; the call synchronises.
__device__ __forceinline__ double block_sum_double(double v, double* smem) {
  const int tid = threadIdx.x;
  __syncthreads();  // smem may still be read by a previous call
  smem[tid] = v;
  __syncthreads();
  for (int half = blockDim.x / 2; half > 0; half /= 2) {
    if (tid < half) smem[tid] += smem[tid + half];
    __syncthreads();
  }
  const double total = smem[0];
  __syncthreads();
  return total;
}

// N sums at once (e.g. a loss total and its normaliser); `smem` holds N * blockDim.x doubles.
template <int N>
__device__ __forceinline__ void block_sum_doubles(double (&v)[N], double* smem) {
  const int tid = threadIdx.x, n = blockDim.x;
  __syncthreads();
  for (int k = 0; k < N; k++) smem[k * n + tid] = v[k];
  __syncthreads();
  for (int half = n / 2; half > 0; half /= 2) {
    if (tid < half) {
      for (int k = 0; k < N; k++) smem[k * n + tid] += smem[k * n + tid + half];
    }
    __syncthreads();
  }
  for (int k = 0; k < N; k++) v[k] = smem[k * n];
  __syncthreads();
}

}  // namespace mm::cuda
