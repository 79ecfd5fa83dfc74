// CUDA normalisation family: RMSNorm, LayerNorm and the AdaLN modulation, forward and backward.
//
// Row kernels (rowwise.cuh): a warp per row for short rows, a block per row for long ones,
// float4 loads when aligned. The forward computes the statistics and writes y and rstd in one
// kernel (LayerNorm: Welford moments, merged across lanes with Chan's formula, so one read pass
// gives a stable mean and variance; then the y pass). The backward re-derives the row's mean the
// same way (bit-identical to the forward's), reduces sum(g) and sum(g xhat) and writes dx.
//
// Weight/bias gradients are column sums over rows, done without float atomics: every row worker
// owns its threads' columns, adds each row into its own accumulator row (shared memory when it
// fits, else its own row of a Scratch buffer), flushes it to Scratch, and a second small kernel
// adds the workers' rows in a fixed order. The number of workers depends only on the sizes, so
// results are deterministic run to run.
#include <algorithm>

#include "norm.h"
#include "rowwise.cuh"

namespace mm::cuda {
namespace {

using rowwise::aligned;
using rowwise::for_row;
using rowwise::load;
using rowwise::row_fold;
using rowwise::row_sum;
using rowwise::store;
using rowwise::worker;
using rowwise::workers;

constexpr int64_t kMaxRowWorkers = 65535 * 4;  // forward: more rows are taken grid-stride
constexpr int64_t kMaxPartialWorkers = 1024;   // backward with column sums: rows of partial sums
constexpr size_t kSharedAccumulators = 48 * 1024;

// ---- Welford moments ---------------------------------------------------------------------

struct Moments {
  float n, mean, m2;  // count, mean, sum of squared deviations
};

__device__ __forceinline__ void welford_add(Moments& m, float x) {
  m.n += 1.f;
  const float delta = x - m.mean;
  m.mean += delta / m.n;
  m.m2 += delta * (x - m.mean);
}

struct MomentsOp {
  // Chan et al.'s combination of two partial moments.
  __device__ static __forceinline__ Moments merge(Moments a, Moments b) {
    if (b.n == 0.f) return a;
    if (a.n == 0.f) return b;
    const float n = a.n + b.n, delta = b.mean - a.mean, fb = b.n / n;
    return Moments{n, a.mean + delta * fb, a.m2 + b.m2 + delta * delta * a.n * fb};
  }
  __device__ static __forceinline__ Moments shfl_down(Moments v, int o) {
    return Moments{__shfl_down_sync(0xffffffffu, v.n, o), __shfl_down_sync(0xffffffffu, v.mean, o),
                   __shfl_down_sync(0xffffffffu, v.m2, o)};
  }
  __device__ static __forceinline__ Moments shfl0(Moments v) {
    return Moments{__shfl_sync(0xffffffffu, v.n, 0), __shfl_sync(0xffffffffu, v.mean, 0), __shfl_sync(0xffffffffu, v.m2, 0)};
  }
  __device__ static __forceinline__ Moments empty() { return Moments{0.f, 0.f, 0.f}; }
};

// The row's moments (every thread of the worker gets them). The element -> thread mapping
// depends only on d, the block shape and `vec`, so forward and backward agree bit for bit.
__device__ __forceinline__ Moments row_moments(const float* xr, int64_t d, bool vec, Moments* scratch) {
  Moments m = MomentsOp::empty();
  for_row(d, vec, [&](int64_t i, auto width) {
    constexpr int W = decltype(width)::value;
    float v[W];
    load(v, xr + i);
    for (int k = 0; k < W; k++) welford_add(m, v[k]);
  });
  return row_fold<MomentsOp>(m, scratch);
}

// W parameters from p, or `value` when p is null (no affine part).
template <int W>
__device__ __forceinline__ void load_or(float (&v)[W], const float* p, float value) {
  if (p) {
    load(v, p);
  } else {
    for (int k = 0; k < W; k++) v[k] = value;
  }
}

// 1 / sqrt(mean + eps) in double, as the CPU backend rounds it.
__device__ __forceinline__ float inv_sqrt(float sum, int64_t d, double eps) {
  const double mean = d ? static_cast<double>(sum) / static_cast<double>(d) : 0.0;
  return static_cast<float>(1.0 / sqrt(mean + eps));
}

// Copies one row of the worker's shared accumulators (d floats) to its partial sums, each thread
// its own elements (the ones it accumulated, with the same mapping, so no sync is needed).
__device__ __forceinline__ void flush_accumulators(const float* acc, float* out, int64_t d, bool vec) {
  for_row(d, vec, [&](int64_t i, auto width) {
    constexpr int W = decltype(width)::value;
    float v[W];
    load(v, acc + i);
    store(out + i, v);
  });
}

// ---- kernels -----------------------------------------------------------------------------

__global__ void rms_norm_kernel(const float* x, const float* w, int64_t rows, int64_t d, double eps, float* y, float* rstd, bool vec) {
  __shared__ float scratch[kWarp];
  for (int64_t row = worker(); row < rows; row += workers()) {
    const float* xr = x + row * d;
    float ss = 0.f;
    for_row(d, vec, [&](int64_t i, auto width) {
      constexpr int W = decltype(width)::value;
      float v[W];
      load(v, xr + i);
      for (int k = 0; k < W; k++) ss += v[k] * v[k];
    });
    const float r = inv_sqrt(row_sum(ss, scratch), d, eps);
    float* yr = y + row * d;
    for_row(d, vec, [&](int64_t i, auto width) {
      constexpr int W = decltype(width)::value;
      float v[W], wv[W];
      load(v, xr + i);
      load(wv, w + i);
      for (int k = 0; k < W; k++) v[k] = v[k] * r * wv[k];
      store(yr + i, v);
    });
    if (rstd && threadIdx.x == 0) rstd[row] = r;
  }
}

// partial: null, or [workers][d] rows of dweight partial sums; accumulated in shared memory
// first when smem_acc.
__global__ void rms_norm_backward_kernel(const float* dy, const float* x, const float* w, const float* rstd, int64_t rows, int64_t d,
                                         float* dx, float* partial, bool smem_acc, bool vec) {
  __shared__ float scratch[kWarp];
  MM_DYNAMIC_SHARED(float, smem);
  const int64_t me = worker();
  float* acc = partial ? (smem_acc ? smem + threadIdx.y * d : partial + me * d) : nullptr;
  for (int64_t row = me; row < rows; row += workers()) {
    const bool first = row == me;
    const float* gr = dy + row * d;
    const float* xr = x + row * d;
    const float r = rstd[row];
    if (dx) {
      // dx_i = r w_i dy_i - x_i r^3 sum_j(dy_j w_j x_j) / d
      float dot = 0.f;
      for_row(d, vec, [&](int64_t i, auto width) {
        constexpr int W = decltype(width)::value;
        float g[W], v[W], wv[W];
        load(g, gr + i);
        load(v, xr + i);
        load(wv, w + i);
        for (int k = 0; k < W; k++) dot += g[k] * wv[k] * v[k];
      });
      dot = row_sum(dot, scratch);
      const float c = r * r * r * dot / static_cast<float>(d);
      float* dxr = dx + row * d;
      for_row(d, vec, [&](int64_t i, auto width) {
        constexpr int W = decltype(width)::value;
        float g[W], v[W], wv[W];
        load(g, gr + i);
        load(v, xr + i);
        load(wv, w + i);
        for (int k = 0; k < W; k++) v[k] = r * wv[k] * g[k] - v[k] * c;
        store(dxr + i, v);
      });
    }
    if (acc) {
      for_row(d, vec, [&](int64_t i, auto width) {
        constexpr int W = decltype(width)::value;
        float g[W], v[W], a[W];
        load(g, gr + i);
        load(v, xr + i);
        if (first) {
          for (int k = 0; k < W; k++) a[k] = 0.f;
        } else {
          load(a, acc + i);
        }
        for (int k = 0; k < W; k++) a[k] += g[k] * v[k] * r;
        store(acc + i, a);
      });
    }
  }
  if (acc && smem_acc && me < rows) flush_accumulators(acc, partial + me * d, d, vec);
}

__global__ void layer_norm_kernel(const float* x, const float* w, const float* b, int64_t rows, int64_t d, double eps, float* y,
                                  float* rstd, bool vec_x, bool vec) {
  __shared__ Moments scratch[kWarp];
  for (int64_t row = worker(); row < rows; row += workers()) {
    const float* xr = x + row * d;
    const Moments m = row_moments(xr, d, vec_x, scratch);
    const float r = inv_sqrt(m.m2, d, eps);
    const float mean = m.mean;
    float* yr = y + row * d;
    for_row(d, vec, [&](int64_t i, auto width) {
      constexpr int W = decltype(width)::value;
      float v[W], wv[W], bv[W];
      load(v, xr + i);
      load_or(wv, w ? w + i : nullptr, 1.f);
      load_or(bv, b ? b + i : nullptr, 0.f);
      for (int k = 0; k < W; k++) v[k] = (v[k] - mean) * r * wv[k] + bv[k];
      store(yr + i, v);
    });
    if (rstd && threadIdx.x == 0) rstd[row] = r;
  }
}

// partial: null, or [workers][n_sums][d] partial sums of dweight (slot dw) and dbias (slot db;
// a slot is -1 when that gradient is not wanted).
__global__ void layer_norm_backward_kernel(const float* dy, const float* x, const float* w, const float* rstd, int64_t rows,
                                           int64_t d, float* dx, float* partial, int n_sums, int dw, int db, bool smem_acc,
                                           bool vec_x, bool vec) {
  __shared__ Moments mscratch[kWarp];
  __shared__ float scratch[kWarp];
  MM_DYNAMIC_SHARED(float, smem);
  const int64_t me = worker();
  float* acc = partial ? (smem_acc ? smem + threadIdx.y * n_sums * d : partial + me * n_sums * d) : nullptr;
  float* acc_w = acc && dw >= 0 ? acc + dw * d : nullptr;
  float* acc_b = acc && db >= 0 ? acc + db * d : nullptr;
  for (int64_t row = me; row < rows; row += workers()) {
    const bool first = row == me;
    const float* gr = dy + row * d;
    const float* xr = x + row * d;
    const float r = rstd[row];
    const float mean = (dx || acc_w) ? row_moments(xr, d, vec_x, mscratch).mean : 0.f;
    if (dx) {
      // xhat = (x - mean) r, g = dy w:  dx = r (g - mean(g) - xhat mean(g xhat))
      float sg = 0.f, sgx = 0.f;
      for_row(d, vec, [&](int64_t i, auto width) {
        constexpr int W = decltype(width)::value;
        float g[W], v[W], wv[W];
        load(g, gr + i);
        load(v, xr + i);
        load_or(wv, w ? w + i : nullptr, 1.f);
        for (int k = 0; k < W; k++) {
          const float gk = g[k] * wv[k];
          sg += gk;
          sgx += gk * ((v[k] - mean) * r);
        }
      });
      const float mg = row_sum(sg, scratch) / static_cast<float>(d);
      const float mgx = row_sum(sgx, scratch) / static_cast<float>(d);
      float* dxr = dx + row * d;
      for_row(d, vec, [&](int64_t i, auto width) {
        constexpr int W = decltype(width)::value;
        float g[W], v[W], wv[W];
        load(g, gr + i);
        load(v, xr + i);
        load_or(wv, w ? w + i : nullptr, 1.f);
        for (int k = 0; k < W; k++) v[k] = r * (g[k] * wv[k] - mg - (v[k] - mean) * r * mgx);
        store(dxr + i, v);
      });
    }
    if (acc) {
      for_row(d, vec, [&](int64_t i, auto width) {
        constexpr int W = decltype(width)::value;
        float g[W], a[W];
        load(g, gr + i);
        if (acc_w) {
          float v[W];
          load(v, xr + i);
          if (first) {
            for (int k = 0; k < W; k++) a[k] = 0.f;
          } else {
            load(a, acc_w + i);
          }
          for (int k = 0; k < W; k++) a[k] += g[k] * ((v[k] - mean) * r);
          store(acc_w + i, a);
        }
        if (acc_b) {
          if (first) {
            for (int k = 0; k < W; k++) a[k] = 0.f;
          } else {
            load(a, acc_b + i);
          }
          for (int k = 0; k < W; k++) a[k] += g[k];
          store(acc_b + i, a);
        }
      });
    }
  }
  if (acc && smem_acc && me < rows) {
    for (int k = 0; k < n_sums; k++) flush_accumulators(acc + k * d, partial + (me * n_sums + k) * d, d, vec);
  }
}

__global__ void modulate_kernel(const float* x, const float* shift, const float* scale, int64_t rows, int64_t rows_per_group,
                                int64_t d, float* y, bool vec) {
  for (int64_t row = worker(); row < rows; row += workers()) {
    const int64_t g = row / rows_per_group;
    const float* xr = x + row * d;
    const float* sh = shift + g * d;
    const float* sc = scale + g * d;
    float* yr = y + row * d;
    for_row(d, vec, [&](int64_t i, auto width) {
      constexpr int W = decltype(width)::value;
      float v[W], a[W], s[W];
      load(v, xr + i);
      load(a, sh + i);
      load(s, sc + i);
      for (int k = 0; k < W; k++) v[k] = v[k] * (1.f + s[k]) + a[k];
      store(yr + i, v);
    });
  }
}

// Groups of few rows (x [N, D] with one condition per row, the diffusion head's case): a row
// worker per group; each thread walks the group's rows for its own columns, so the sums stay
// in registers and every access is a coalesced (float4) row access.
__global__ void modulate_backward_groups_kernel(const float* dy, const float* x, const float* scale, int64_t groups,
                                                int64_t rows_per_group, int64_t d, float* dx, float* dshift, float* dscale, bool vec) {
  for (int64_t g = worker(); g < groups; g += workers()) {
    for_row(d, vec, [&](int64_t i, auto width) {
      constexpr int W = decltype(width)::value;
      float k[W], sum_shift[W], sum_scale[W];
      load(k, scale + g * d + i);
      for (int q = 0; q < W; q++) {
        k[q] += 1.f;
        sum_shift[q] = sum_scale[q] = 0.f;
      }
      for (int64_t r = 0; r < rows_per_group; r++) {
        const int64_t at = (g * rows_per_group + r) * d + i;
        float gv[W], v[W];
        load(gv, dy + at);
        load(v, x + at);
        for (int q = 0; q < W; q++) {
          sum_shift[q] += gv[q];
          sum_scale[q] += gv[q] * v[q];
          v[q] = gv[q] * k[q];
        }
        if (dx) store(dx + at, v);
      }
      if (dshift) store(dshift + g * d + i, sum_shift);
      if (dscale) store(dscale + g * d + i, sum_scale);
    });
  }
}

// Groups of many rows: one block (32 columns x kSumRows rows of threads) per (column tile, group, split): thread
// (tx, ty) walks rows ty, ty + kSumRows, ... of the split's share of the group, writing dx and
// summing dy and dy x for its column; the kSumRows sums are added in shared memory in a fixed
// order. Output o = (split, group, column) of pshift/pscale ([splits][groups][d]; null when not
// wanted). A warp reads 32 consecutive columns of one row.
constexpr int kSumRows = 8;
constexpr int64_t kFewRows = 16;  // up to this many rows per group: modulate_backward_groups_kernel

__global__ void modulate_backward_kernel(const float* dy, const float* x, const float* scale, int64_t groups, int64_t rows_per_group,
                                         int64_t d, int64_t splits, float* dx, float* pshift, float* pscale) {
  __shared__ float tile[2][kSumRows][kWarp + 1];
  const int64_t c = blockIdx.x * int64_t{kWarp} + threadIdx.x;
  const int tx = threadIdx.x, ty = threadIdx.y;
  for (int64_t task = blockIdx.y; task < groups * splits; task += gridDim.y) {
    const int64_t g = task / splits, s = task % splits;
    float sum_shift = 0.f, sum_scale = 0.f;
    if (c < d) {
      const float k = 1.f + scale[g * d + c];
      for (int64_t r = s * kSumRows + ty; r < rows_per_group; r += splits * kSumRows) {
        const int64_t at = (g * rows_per_group + r) * d + c;
        const float gv = dy[at];
        if (dx) dx[at] = gv * k;
        sum_shift += gv;
        sum_scale += gv * x[at];
      }
    }
    tile[0][ty][tx] = sum_shift;
    tile[1][ty][tx] = sum_scale;
    __syncthreads();
    if (ty == 0 && c < d) {
      float a = 0.f, b = 0.f;
      for (int k = 0; k < kSumRows; k++) {
        a += tile[0][k][tx];
        b += tile[1][k][tx];
      }
      const int64_t o = (s * groups + g) * d + c;
      if (pshift) pshift[o] = a;
      if (pscale) pscale[o] = b;
    }
    __syncthreads();  // the tile is reused by the next task
  }
}

// out[c] = sum over s < slots of partial[s * stride + c], c < m: the second stage of the column
// sums. Block 32 x 8: a warp reads 32 consecutive columns of one slot; the 8 thread rows split
// the slots and are added in shared memory in a fixed order.
__global__ void column_sums_kernel(const float* partial, int64_t slots, int64_t stride, int64_t m, float* out) {
  __shared__ float tile[kSumRows][kWarp + 1];
  const int64_t c = blockIdx.x * int64_t{kWarp} + threadIdx.x;
  float acc = 0.f;
  if (c < m) {
    for (int64_t s = threadIdx.y; s < slots; s += kSumRows) acc += partial[s * stride + c];
  }
  tile[threadIdx.y][threadIdx.x] = acc;
  __syncthreads();
  if (threadIdx.y == 0 && c < m) {
    float t = 0.f;
    for (int k = 0; k < kSumRows; k++) t += tile[k][threadIdx.x];
    out[c] = t;
  }
}

// ---- host helpers ------------------------------------------------------------------------

unsigned tiles_of(int64_t m) { return static_cast<unsigned>((m + kWarp - 1) / kWarp); }

mm_status column_sums(const char* what, const float* partial, int64_t slots, int64_t stride, int64_t m, float* out) {
  return launch(what, column_sums_kernel, dim3(tiles_of(m)), dim3(kWarp, kSumRows), 0, partial, slots, stride, m, out);
}

// Where a row kernel's per-worker accumulators (n floats each) live: shared memory when they
// fit, else directly the Scratch rows of partial sums.
struct Accumulators {
  Scratch partial;
  size_t smem = 0;
  bool in_smem = false;
  mm_status make(const rowwise::RowLaunch& l, int64_t n) {
    MM_TRY(partial.allocate(static_cast<size_t>(l.workers * n) * sizeof(float)));
    const size_t bytes = static_cast<size_t>(l.block.y * n) * sizeof(float);
    in_smem = bytes <= kSharedAccumulators;
    smem = in_smem ? bytes : 0;
    return MM_OK;
  }
};

}  // namespace

mm_status rms_norm(const float* x, const float* weight, int64_t rows, int64_t d, double eps, float* y, float* rstd) {
  const rowwise::RowLaunch l = rowwise::row_launch(rows, d, kMaxRowWorkers);
  const bool vec = d % 4 == 0 && aligned(x, weight, y);
  return launch("rmsNorm", rms_norm_kernel, l.grid, l.block, 0, x, weight, rows, d, eps, y, rstd, vec);
}

mm_status rms_norm_backward(const float* dy, const float* x, const float* weight, const float* rstd, int64_t rows, int64_t d,
                            float* dx, float* dweight) {
  const rowwise::RowLaunch l = rowwise::row_launch(rows, d, dweight ? kMaxPartialWorkers : kMaxRowWorkers);
  const bool vec = d % 4 == 0 && aligned(dy, x, weight, dx);
  Accumulators acc;
  if (dweight) MM_TRY(acc.make(l, d));
  float* partial = dweight ? acc.partial.as<float>() : nullptr;
  MM_TRY(launch("rmsNorm backward", rms_norm_backward_kernel, l.grid, l.block, acc.smem, dy, x, weight, rstd, rows, d, dx, partial,
                acc.in_smem, vec));
  if (dweight) MM_TRY(column_sums("rmsNorm backward", partial, std::min(rows, l.workers), d, d, dweight));
  return MM_OK;
}

mm_status layer_norm(const float* x, const float* weight, const float* bias, int64_t rows, int64_t d, double eps, float* y,
                     float* rstd) {
  const rowwise::RowLaunch l = rowwise::row_launch(rows, d, kMaxRowWorkers);
  const bool vec_x = d % 4 == 0 && aligned(x);
  const bool vec = vec_x && aligned(weight, bias, y);
  return launch("layerNorm", layer_norm_kernel, l.grid, l.block, 0, x, weight, bias, rows, d, eps, y, rstd, vec_x, vec);
}

mm_status layer_norm_backward(const float* dy, const float* x, const float* weight, const float* rstd, int64_t rows, int64_t d,
                              float* dx, float* dweight, float* dbias) {
  int n_sums = 0;
  const int dw = dweight ? n_sums++ : -1;
  const int db = dbias ? n_sums++ : -1;
  const rowwise::RowLaunch l = rowwise::row_launch(rows, d, n_sums ? kMaxPartialWorkers : kMaxRowWorkers);
  const bool vec_x = d % 4 == 0 && aligned(x);
  const bool vec = vec_x && aligned(dy, weight, dx);
  Accumulators acc;
  if (n_sums) MM_TRY(acc.make(l, n_sums * d));
  float* partial = n_sums ? acc.partial.as<float>() : nullptr;
  MM_TRY(launch("layerNorm backward", layer_norm_backward_kernel, l.grid, l.block, acc.smem, dy, x, weight, rstd, rows, d, dx, partial,
                n_sums, dw, db, acc.in_smem, vec_x, vec));
  const int64_t slots = std::min(rows, l.workers);
  if (dweight) MM_TRY(column_sums("layerNorm backward", partial + dw * d, slots, n_sums * d, d, dweight));
  if (dbias) MM_TRY(column_sums("layerNorm backward", partial + db * d, slots, n_sums * d, d, dbias));
  return MM_OK;
}

mm_status modulate(const float* x, const float* shift, const float* scale, int64_t groups, int64_t rows_per_group, int64_t d,
                   float* y) {
  const int64_t rows = groups * rows_per_group;
  const rowwise::RowLaunch l = rowwise::row_launch(rows, d, kMaxRowWorkers);
  const bool vec = d % 4 == 0 && aligned(x, shift, scale, y);
  return launch("modulate", modulate_kernel, l.grid, l.block, 0, x, shift, scale, rows, rows_per_group, d, y, vec);
}

mm_status modulate_backward(const float* dy, const float* x, const float* scale, int64_t groups, int64_t rows_per_group, int64_t d,
                            float* dx, float* dshift, float* dscale) {
  if (groups == 0 || d == 0) return MM_OK;
  if (rows_per_group <= kFewRows) {
    const rowwise::RowLaunch l = rowwise::row_launch(groups, d, kMaxRowWorkers);
    const bool vec = d % 4 == 0 && aligned(dy, x, scale, dx, dshift) && aligned(dscale);
    return launch("modulate backward", modulate_backward_groups_kernel, l.grid, l.block, 0, dy, x, scale, groups, rows_per_group, d, dx,
                  dshift, dscale, vec);
  }
  // Split a group's rows when (tiles x groups) alone would give few blocks, keeping at least
  // 8 rows per thread; splits > 1 go through partial sums and column_sums.
  const int64_t tiles = tiles_of(d), blocks = tiles * groups;
  int64_t splits = 1;
  if (blocks < 1024) splits = std::max<int64_t>(1, std::min<int64_t>({(1024 + blocks - 1) / blocks, rows_per_group / (8 * kSumRows), 256}));
  const int64_t m = groups * d;
  Scratch partial;
  float *pshift = dshift, *pscale = dscale;
  if (splits > 1 && (dshift || dscale)) {
    MM_TRY(partial.allocate(static_cast<size_t>(2 * splits * m) * sizeof(float)));
    pshift = dshift ? partial.as<float>() : nullptr;
    pscale = dscale ? partial.as<float>() + splits * m : nullptr;
  }
  const dim3 grid(static_cast<unsigned>(tiles), static_cast<unsigned>(std::min<int64_t>(groups * splits, 65535)));
  MM_TRY(launch("modulate backward", modulate_backward_kernel, grid, dim3(kWarp, kSumRows), 0, dy, x, scale, groups, rows_per_group, d,
                splits, dx, pshift, pscale));
  if (splits > 1 && dshift) MM_TRY(column_sums("modulate backward", pshift, splits, m, m, dshift));
  if (splits > 1 && dscale) MM_TRY(column_sums("modulate backward", pscale, splits, m, m, dscale));
  return MM_OK;
}

}  // namespace mm::cuda
