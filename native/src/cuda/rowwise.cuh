// Building blocks of the row-wise kernels (norm.cu, activation.cu): a tensor seen as [rows, d]
// is handed to "row workers", each a group of blockDim.x threads that owns one row at a time:
//   - blockDim.x == 32: a warp per row, blockDim.y warps (rows) per block, warp-shuffle
//     reductions only (short rows);
//   - blockDim.x  > 32: the whole block (blockDim.y == 1) per row, block reductions through
//     shared memory (long rows).
// Worker w = blockIdx.x * blockDim.y + threadIdx.y takes rows w, w + workers, ... Inside a row,
// thread t takes float4 chunks t, t + blockDim.x, ... when the row is 16-byte aligned and d is a
// multiple of 4, then scalar elements: loads coalesce either way. A thread sees the same
// elements of every row, so per-column accumulators it owns need neither atomics nor syncs.
#pragma once
#include <cstdint>

#include "common.cuh"

namespace mm::cuda::rowwise {

template <int W>
struct Width {
  static constexpr int value = W;
};

// v[0..W) = p[0..W) (p 16-byte aligned when W == 4).
template <int W>
__device__ __forceinline__ void load(float (&v)[W], const float* p) {
  if constexpr (W == 4) {
    const float4 q = *reinterpret_cast<const float4*>(p);
    v[0] = q.x, v[1] = q.y, v[2] = q.z, v[3] = q.w;
  } else {
    for (int k = 0; k < W; k++) v[k] = p[k];
  }
}

template <int W>
__device__ __forceinline__ void store(float* p, const float (&v)[W]) {
  if constexpr (W == 4) {
    *reinterpret_cast<float4*>(p) = make_float4(v[0], v[1], v[2], v[3]);
  } else {
    for (int k = 0; k < W; k++) p[k] = v[k];
  }
}

// Calls f(i, Width<4>{}) for this thread's float4 chunks of a row of d elements (when vec), then
// f(i, Width<1>{}) for its scalar elements.
template <class F>
__device__ __forceinline__ void for_row(int64_t d, bool vec, F&& f) {
  int64_t start = 0;
  if (vec) {
    const int64_t chunks = d / 4;
    for (int64_t j = threadIdx.x; j < chunks; j += blockDim.x) f(j * 4, Width<4>{});
    start = chunks * 4;
  }
  for (int64_t i = start + threadIdx.x; i < d; i += blockDim.x) f(i, Width<1>{});
}

// The row worker's index and the number of workers.
__device__ __forceinline__ int64_t worker() { return blockIdx.x * int64_t{blockDim.y} + threadIdx.y; }
__device__ __forceinline__ int64_t workers() { return int64_t{gridDim.x} * blockDim.y; }

// Sum over the row worker's threads; every thread gets it. `scratch`: 32 floats of shared memory
// (used only by block workers; the call synchronises the block then).
__device__ __forceinline__ float row_sum(float v, float* scratch) {
  if (blockDim.x == kWarp) return warp_sum(v);
  return block_sum(v, scratch);
}

// A reduction whose combine is not bitwise symmetric (merge(a, b) != merge(b, a) in floats)
// must end with the same value in every lane: fold down to lane 0 with __shfl_down_sync and
// broadcast from there. Op: { T merge(T, T); T shfl_down(T, int); T shfl0(T); T empty(); }
// plus storage of T in `scratch` (at least 32 T of shared memory).
template <class Op, class T>
__device__ __forceinline__ T warp_fold(T v) {
  for (int o = kWarp / 2; o > 0; o /= 2) v = Op::merge(v, Op::shfl_down(v, o));
  return Op::shfl0(v);
}

template <class Op, class T>
__device__ __forceinline__ T row_fold(T v, T* scratch) {
  v = warp_fold<Op>(v);
  if (blockDim.x == kWarp) return v;
  const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp, warps = blockDim.x / kWarp;
  __syncthreads();  // scratch may still be read by a previous call
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  v = lane < warps ? scratch[lane] : Op::empty();
  return warp_fold<Op>(v);
}

// ---- host side ----

inline bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }
// Every pointer 16-byte aligned (null counts as aligned: an operand that is absent).
template <class... P>
bool aligned(const P*... p) {
  return (aligned16(p) && ...);
}

// Threads per row: about one float4 per thread per pass, a multiple of 32 in [32, 512].
inline int row_threads(int64_t d) {
  const int64_t want = (d + 3) / 4;
  const int64_t t = (want + kWarp - 1) / kWarp * kWarp;
  return static_cast<int>(t < kWarp ? kWarp : t > 512 ? 512 : t);
}

struct RowLaunch {
  dim3 grid, block;
  int64_t workers;  // grid.x * block.y (0 when there are no rows)
};

// At most max_workers workers for `rows` rows of d elements; warp workers come 4 to a block.
inline RowLaunch row_launch(int64_t rows, int64_t d, int64_t max_workers) {
  const int tx = row_threads(d), ty = tx == kWarp ? 4 : 1;
  const int64_t want = rows < max_workers ? rows : max_workers;
  const int64_t blocks = (want + ty - 1) / ty;
  RowLaunch l;
  l.grid = dim3(static_cast<unsigned>(blocks), 1, 1);
  l.block = dim3(static_cast<unsigned>(tx), static_cast<unsigned>(ty), 1);
  l.workers = blocks * ty;
  return l;
}

}  // namespace mm::cuda::rowwise
