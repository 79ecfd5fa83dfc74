// CUDA reduce family. Every kernel sees the input as [outer, n, inner] and reduces n:
//  - inner == 1 (the reduced axis is contiguous): rows of n <= 1024 take one warp each
//    (coalesced strided loop, warp-shuffle reduction); longer rows take a block each, and when
//    there are few of them a row is split into chunks summed by separate blocks, whose partials
//    a second pass combines in a fixed order (two-stage reduction);
//  - inner > 1: blocks of (columns x row lanes), consecutive threads on consecutive columns so
//    every load coalesces; the lanes are combined in shared memory in a fixed order, and when
//    there are few column blocks the rows are split across blocks with a second pass again.
// Threads accumulate in double. Every split depends only on the shape and every combination
// runs in a fixed order (no float atomics), so results are deterministic run to run.
// max/argmax use the CPU's rule: NaN counts as the largest value, ties go to the first index.
#include <climits>
#include <cstdint>

#include "common.cuh"
#include "device.h"
#include "reduce.h"

namespace mm::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int64_t kWarpRowMax = 1024;   // rows up to this long are reduced by one warp
constexpr int64_t kMinChunk = 8192;     // a block reduces at least this many elements of a split row
constexpr int64_t kTargetBlocks = 512;  // splitting stops once this many blocks are busy
constexpr int kMaxGrid = 65535;

inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
inline int64_t clamp64(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : (v > hi ? hi : v); }
__device__ __forceinline__ int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

__device__ __forceinline__ double term(float v, bool squares) {
  const double d = v;
  return squares ? d * d : d;
}

// ---- sums ----

__global__ void sum_rows_warp_kernel(const float* __restrict__ x, int64_t outer, int64_t n, bool squares, double scale, float* __restrict__ out) {
  const int lane = threadIdx.x % kWarp;
  const int64_t warps = int64_t{gridDim.x} * (blockDim.x / kWarp);
  // The row is the same for every lane of a warp, so the shuffles below run on full warps.
  for (int64_t row = blockIdx.x * int64_t{blockDim.x / kWarp} + threadIdx.x / kWarp; row < outer; row += warps) {
    const float* p = x + row * n;
    double acc = 0;
    for (int64_t j = lane; j < n; j += kWarp) acc += term(p[j], squares);
    const float s = warp_sum(static_cast<float>(acc));
    if (lane == 0) out[row] = static_cast<float>(s * scale);
  }
}

// grid (chunks, rows): block (c, r) reduces x[r, c*chunk : (c+1)*chunk]; with one chunk it writes
// the scaled result, else its partial to partial[r * chunks + c].
__global__ void sum_rows_block_kernel(const float* __restrict__ x, int64_t outer, int64_t n, int64_t chunk, bool squares, double scale,
                                      float* __restrict__ out, double* __restrict__ partial) {
  __shared__ float scratch[kWarp];
  const int64_t begin = blockIdx.x * chunk, end = min64(n, begin + chunk);
  for (int64_t row = blockIdx.y; row < outer; row += gridDim.y) {
    const float* p = x + row * n;
    double acc = 0;
    for (int64_t j = begin + threadIdx.x; j < end; j += blockDim.x) acc += term(p[j], squares);
    const float s = block_sum(static_cast<float>(acc), scratch);
    if (threadIdx.x == 0) {
      if (partial) {
        partial[row * gridDim.x + blockIdx.x] = s;
      } else {
        out[row] = static_cast<float>(s * scale);
      }
    }
  }
}

// Block (bx, by): bx consecutive columns, by lanes taking every by-th row of the split.
// grid.x covers (outer, column block) units, grid.y the splits of the reduced axis.
__global__ void sum_cols_kernel(const float* __restrict__ x, int64_t outer, int64_t n, int64_t inner, int64_t rows_per_split, bool squares,
                                double scale, float* __restrict__ out, double* __restrict__ partial) {
  __shared__ double lanes[kThreads];
  const int bx = blockDim.x, by = blockDim.y, tx = threadIdx.x, ty = threadIdx.y;
  const int64_t col_blocks = (inner + bx - 1) / bx;
  const int64_t j0 = min64(n, blockIdx.y * rows_per_split), j1 = min64(n, j0 + rows_per_split);
  for (int64_t unit = blockIdx.x; unit < outer * col_blocks; unit += gridDim.x) {
    const int64_t o = unit / col_blocks, c = (unit % col_blocks) * bx + tx;
    double acc = 0;
    if (c < inner) {
      const float* base = x + o * n * inner + c;
      for (int64_t j = j0 + ty; j < j1; j += by) acc += term(base[j * inner], squares);
    }
    lanes[ty * bx + tx] = acc;
    __syncthreads();
    if (ty == 0 && c < inner) {
      double t = 0;
      for (int k = 0; k < by; k++) t += lanes[k * bx + tx];
      if (partial) {
        partial[(o * gridDim.y + blockIdx.y) * inner + c] = t;
      } else {
        out[o * inner + c] = static_cast<float>(t * scale);
      }
    }
    __syncthreads();
  }
}

// out[o, i] = scale * sum over p of partial[o, p, i], in order of p.
__global__ void finish_sums_kernel(const double* __restrict__ partial, int64_t outer, int64_t parts, int64_t inner, double scale, float* __restrict__ out) {
  for (int64_t e = global_thread(); e < outer * inner; e += grid_stride()) {
    const int64_t o = e / inner, i = e % inner;
    double s = 0;
    for (int64_t p = 0; p < parts; p++) s += partial[(o * parts + p) * inner + i];
    out[e] = static_cast<float>(s * scale);
  }
}

// ---- maxima ----

// (v, i) replaces (best, at): larger, or the first NaN, or equal (or both NaN) at a lower index.
// A total order on (value, index) pairs, so any combination order gives the CPU's answer.
__device__ __forceinline__ bool better(float v, int i, float best, int at) {
  if (v > best || (v != v && best == best)) return true;
  const bool tie = v == best || (v != v && best != best);
  return tie && i < at;
}

__device__ __forceinline__ void warp_argmax(float& v, int& i) {
  for (int o = kWarp / 2; o > 0; o /= 2) {
    const float ov = __shfl_xor_sync(0xffffffffu, v, o);
    const int oi = __shfl_xor_sync(0xffffffffu, i, o);
    if (better(ov, oi, v, i)) {
      v = ov;
      i = oi;
    }
  }
}

__global__ void max_rows_warp_kernel(const float* __restrict__ x, int64_t outer, int64_t n, float* __restrict__ values, int32_t* __restrict__ indices) {
  const int lane = threadIdx.x % kWarp;
  const int64_t warps = int64_t{gridDim.x} * (blockDim.x / kWarp);
  for (int64_t row = blockIdx.x * int64_t{blockDim.x / kWarp} + threadIdx.x / kWarp; row < outer; row += warps) {
    const float* p = x + row * n;
    float v = -INFINITY;
    int at = INT_MAX;
    for (int64_t j = lane; j < n; j += kWarp) {
      const float e = p[j];
      if (better(e, static_cast<int>(j), v, at)) {
        v = e;
        at = static_cast<int>(j);
      }
    }
    warp_argmax(v, at);
    if (lane == 0) {
      values[row] = v;
      indices[row] = at;
    }
  }
}

// As sum_rows_block_kernel: one chunk writes the result, several write partial (value, index).
__global__ void max_rows_block_kernel(const float* __restrict__ x, int64_t outer, int64_t n, int64_t chunk, float* __restrict__ values,
                                      int32_t* __restrict__ indices, float* __restrict__ part_v, int32_t* __restrict__ part_i) {
  __shared__ float sv[kWarp];
  __shared__ int si[kWarp];
  const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp, warps = blockDim.x / kWarp;
  const int64_t begin = blockIdx.x * chunk, end = min64(n, begin + chunk);
  for (int64_t row = blockIdx.y; row < outer; row += gridDim.y) {
    const float* p = x + row * n;
    float v = -INFINITY;
    int at = INT_MAX;
    for (int64_t j = begin + threadIdx.x; j < end; j += blockDim.x) {
      const float e = p[j];
      if (better(e, static_cast<int>(j), v, at)) {
        v = e;
        at = static_cast<int>(j);
      }
    }
    warp_argmax(v, at);
    __syncthreads();  // sv/si may still be read for the previous row
    if (lane == 0) {
      sv[warp] = v;
      si[warp] = at;
    }
    __syncthreads();
    v = lane < warps ? sv[lane] : -INFINITY;
    at = lane < warps ? si[lane] : INT_MAX;
    warp_argmax(v, at);
    if (threadIdx.x == 0) {
      if (part_v) {
        part_v[row * gridDim.x + blockIdx.x] = v;
        part_i[row * gridDim.x + blockIdx.x] = at;
      } else {
        values[row] = v;
        indices[row] = at;
      }
    }
  }
}

__global__ void max_cols_kernel(const float* __restrict__ x, int64_t outer, int64_t n, int64_t inner, int64_t rows_per_split, float* __restrict__ values,
                                int32_t* __restrict__ indices, float* __restrict__ part_v, int32_t* __restrict__ part_i) {
  __shared__ float lane_v[kThreads];
  __shared__ int lane_i[kThreads];
  const int bx = blockDim.x, by = blockDim.y, tx = threadIdx.x, ty = threadIdx.y;
  const int64_t col_blocks = (inner + bx - 1) / bx;
  const int64_t j0 = min64(n, blockIdx.y * rows_per_split), j1 = min64(n, j0 + rows_per_split);
  for (int64_t unit = blockIdx.x; unit < outer * col_blocks; unit += gridDim.x) {
    const int64_t o = unit / col_blocks, c = (unit % col_blocks) * bx + tx;
    float v = -INFINITY;
    int at = INT_MAX;
    if (c < inner) {
      const float* base = x + o * n * inner + c;
      for (int64_t j = j0 + ty; j < j1; j += by) {
        const float e = base[j * inner];
        if (better(e, static_cast<int>(j), v, at)) {
          v = e;
          at = static_cast<int>(j);
        }
      }
    }
    lane_v[ty * bx + tx] = v;
    lane_i[ty * bx + tx] = at;
    __syncthreads();
    if (ty == 0 && c < inner) {
      for (int k = 1; k < by; k++) {
        if (better(lane_v[k * bx + tx], lane_i[k * bx + tx], v, at)) {
          v = lane_v[k * bx + tx];
          at = lane_i[k * bx + tx];
        }
      }
      if (part_v) {
        part_v[(o * gridDim.y + blockIdx.y) * inner + c] = v;
        part_i[(o * gridDim.y + blockIdx.y) * inner + c] = at;
      } else {
        values[o * inner + c] = v;
        indices[o * inner + c] = at;
      }
    }
    __syncthreads();
  }
}

__global__ void finish_max_kernel(const float* __restrict__ part_v, const int32_t* __restrict__ part_i, int64_t outer, int64_t parts, int64_t inner,
                                  float* __restrict__ values, int32_t* __restrict__ indices) {
  for (int64_t e = global_thread(); e < outer * inner; e += grid_stride()) {
    const int64_t o = e / inner, i = e % inner;
    float v = -INFINITY;
    int at = INT_MAX;
    for (int64_t p = 0; p < parts; p++) {
      const int64_t k = (o * parts + p) * inner + i;
      if (better(part_v[k], part_i[k], v, at)) {
        v = part_v[k];
        at = part_i[k];
      }
    }
    values[e] = v;
    indices[e] = at;
  }
}

// ---- backward ----

__global__ void sum_backward_kernel(const float* __restrict__ g, const float* __restrict__ x, int64_t total, int64_t n, int64_t inner, float scale,
                                    float* __restrict__ dx) {
  for (int64_t e = global_thread(); e < total; e += grid_stride()) {
    const float gv = g[(e / (n * inner)) * inner + e % inner];
    dx[e] = x ? 2.0f * scale * gv * x[e] : scale * gv;
  }
}

// One pass over dx: each element is its column's gradient where the saved index points at it,
// else 0 (no separate zero fill).
__global__ void max_backward_kernel(const float* __restrict__ g, const int32_t* __restrict__ indices, int64_t total, int64_t n, int64_t inner,
                                    float* __restrict__ dx, int* error_flag) {
  for (int64_t e = global_thread(); e < total; e += grid_stride()) {
    const int64_t o = e / (n * inner), rem = e % (n * inner), j = rem / inner, i = rem % inner;
    const int64_t k = o * inner + i;
    const int32_t at = indices[k];
    if (j == 0 && (at < 0 || at >= n)) report_device_error(error_flag, kIndexOutOfRange);
    dx[e] = at == j ? g[k] : 0.0f;
  }
}

// Block shape for the column kernels: up to 32 columns wide (a power of two covering inner),
// the rest of the 256 threads as row lanes.
dim3 column_block(int64_t inner) {
  int bx = 1;
  while (bx < 32 && bx < inner) bx *= 2;
  return dim3(bx, kThreads / bx);
}

// Splits of the reduced axis for the column kernels: enough blocks to fill the device when
// there are few (outer, column block) units, each split at least 256 rows.
int64_t column_rows_per_split(int64_t units, int64_t n) {
  const int64_t splits = clamp64(ceil_div(kTargetBlocks, units), 1, clamp64(ceil_div(n, 256), 1, kMaxGrid));
  return n == 0 ? 0 : ceil_div(n, splits);
}

// Chunks of a long contiguous row (inner == 1, n > kWarpRowMax).
int64_t row_chunk(int64_t outer, int64_t n) {
  const int64_t chunks = clamp64(ceil_div(kTargetBlocks, outer), 1, clamp64(ceil_div(n, kMinChunk), 1, kMaxGrid));
  return ceil_div(n, chunks);
}

}  // namespace

mm_status reduce_sum(const float* x, int64_t outer, int64_t n, int64_t inner, bool squares, double scale, float* out) {
  if (outer * inner == 0) return MM_OK;
  if (inner == 1 && n <= kWarpRowMax) {
    const int64_t rows_per_block = kThreads / kWarp;
    return launch("sum", sum_rows_warp_kernel, blocks_for(ceil_div(outer, rows_per_block), 1), kThreads, 0, x, outer, n, squares, scale, out);
  }
  if (inner == 1) {
    const int64_t chunk = row_chunk(outer, n), chunks = ceil_div(n, chunk);
    const dim3 grid(static_cast<unsigned>(chunks), static_cast<unsigned>(clamp64(outer, 1, kMaxGrid)));
    if (chunks == 1) return launch("sum", sum_rows_block_kernel, grid, kThreads, 0, x, outer, n, chunk, squares, scale, out, nullptr);
    Scratch partial;
    MM_TRY(partial.allocate(static_cast<size_t>(outer * chunks) * sizeof(double)));
    MM_TRY(launch("sum", sum_rows_block_kernel, grid, kThreads, 0, x, outer, n, chunk, squares, scale, out, partial.as<double>()));
    return launch("sum", finish_sums_kernel, blocks_for(outer), kThreads, 0, partial.as<double>(), outer, chunks, int64_t{1}, scale, out);
  }
  const dim3 block = column_block(inner);
  const int64_t units = outer * ceil_div(inner, block.x);
  const int64_t rows_per_split = column_rows_per_split(units, n);
  const int64_t splits = rows_per_split == 0 ? 1 : ceil_div(n, rows_per_split);
  const dim3 grid(static_cast<unsigned>(clamp64(units, 1, int64_t{kMaxGrid} * 16)), static_cast<unsigned>(splits));
  if (splits == 1) return launch("sum", sum_cols_kernel, grid, block, 0, x, outer, n, inner, rows_per_split, squares, scale, out, nullptr);
  Scratch partial;
  MM_TRY(partial.allocate(static_cast<size_t>(outer * splits * inner) * sizeof(double)));
  MM_TRY(launch("sum", sum_cols_kernel, grid, block, 0, x, outer, n, inner, rows_per_split, squares, scale, out, partial.as<double>()));
  return launch("sum", finish_sums_kernel, blocks_for(outer * inner), kThreads, 0, partial.as<double>(), outer, splits, inner, scale, out);
}

mm_status reduce_max(const float* x, int64_t outer, int64_t n, int64_t inner, float* values, int32_t* indices) {
  if (outer * inner == 0) return MM_OK;
  if (n < 1) return fail(MM_ERR_SHAPE, "max: the reduced axis is empty");
  if (inner == 1 && n <= kWarpRowMax) {
    const int64_t rows_per_block = kThreads / kWarp;
    return launch("max", max_rows_warp_kernel, blocks_for(ceil_div(outer, rows_per_block), 1), kThreads, 0, x, outer, n, values, indices);
  }
  Scratch part_v, part_i;
  if (inner == 1) {
    const int64_t chunk = row_chunk(outer, n), chunks = ceil_div(n, chunk);
    const dim3 grid(static_cast<unsigned>(chunks), static_cast<unsigned>(clamp64(outer, 1, kMaxGrid)));
    if (chunks == 1) return launch("max", max_rows_block_kernel, grid, kThreads, 0, x, outer, n, chunk, values, indices, nullptr, nullptr);
    MM_TRY(part_v.allocate(static_cast<size_t>(outer * chunks) * sizeof(float)));
    MM_TRY(part_i.allocate(static_cast<size_t>(outer * chunks) * sizeof(int32_t)));
    MM_TRY(launch("max", max_rows_block_kernel, grid, kThreads, 0, x, outer, n, chunk, values, indices, part_v.as<float>(), part_i.as<int32_t>()));
    return launch("max", finish_max_kernel, blocks_for(outer), kThreads, 0, part_v.as<float>(), part_i.as<int32_t>(), outer, chunks, int64_t{1}, values,
                  indices);
  }
  const dim3 block = column_block(inner);
  const int64_t units = outer * ceil_div(inner, block.x);
  const int64_t rows_per_split = column_rows_per_split(units, n);
  const int64_t splits = ceil_div(n, rows_per_split);
  const dim3 grid(static_cast<unsigned>(clamp64(units, 1, int64_t{kMaxGrid} * 16)), static_cast<unsigned>(splits));
  if (splits == 1) return launch("max", max_cols_kernel, grid, block, 0, x, outer, n, inner, rows_per_split, values, indices, nullptr, nullptr);
  MM_TRY(part_v.allocate(static_cast<size_t>(outer * splits * inner) * sizeof(float)));
  MM_TRY(part_i.allocate(static_cast<size_t>(outer * splits * inner) * sizeof(int32_t)));
  MM_TRY(launch("max", max_cols_kernel, grid, block, 0, x, outer, n, inner, rows_per_split, values, indices, part_v.as<float>(), part_i.as<int32_t>()));
  return launch("max", finish_max_kernel, blocks_for(outer * inner), kThreads, 0, part_v.as<float>(), part_i.as<int32_t>(), outer, splits, inner, values,
                indices);
}

mm_status reduce_sum_backward(const float* g, const float* x, int64_t outer, int64_t n, int64_t inner, float scale, float* dx) {
  const int64_t total = outer * n * inner;
  if (total == 0) return MM_OK;
  return launch("sumBackward", sum_backward_kernel, blocks_for(total), kThreads, 0, g, x, total, n, inner, scale, dx);
}

mm_status reduce_max_backward(const float* g, const int32_t* indices, int64_t outer, int64_t n, int64_t inner, float* dx) {
  const int64_t total = outer * n * inner;
  if (total == 0) return MM_OK;
  note_checking_op("maxBackward");
  return launch("maxBackward", max_backward_kernel, blocks_for(total), kThreads, 0, g, indices, total, n, inner, dx, device_error_flag());
}

}  // namespace mm::cuda
