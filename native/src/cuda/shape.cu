// CUDA shape family: data movement only, for 2- and 4-byte elements.
//  - Copies (slice, concat, sliceAssign, pad, gather) run one coalesced grid-stride pass each,
//    on the widest unit (16, 8, 4 or 2 bytes) that every row length, offset and pointer allows,
//    so contiguous runs move as int4 loads and stores; pad writes the fill and the copy in the
//    same pass.
//  - permute collapses the permutation as the CPU does (cpu/shape.cc). When the output's last
//    axis is contiguous in the input too it is a strided row copy (coalesced on both sides, in
//    wide units where the sizes allow); otherwise it is a batch of 2-D transposes between the
//    input's contiguous axis and the output's last axis, done in 32x32 shared-memory tiles so
//    both the reads and the writes coalesce; small transposes (a side under 16) use the
//    general strided kernel instead.
//  - scatter_add (the backward of gather) is sort-based and deterministic: the (index, position)
//    pairs are sorted (bitonic sort of 2048-key tiles in shared memory, then merge passes), each
//    destination row finds its run of sources by binary search, and sums them in ascending
//    position in double: the CPU's order and arithmetic, so results match it bit for bit and do
//    not vary run to run. Rows with many sources (> 64, e.g. a padding id) are instead summed
//    by 8 lanes per column whose partials add in lane order: still a fixed order (deterministic),
//    equal to the CPU's after rounding unless a double rounding lands on a float tie. No float
//    atomics; O(k log k) for k indices plus one pass over the output (never O(rows * k)).
#include <cstdint>
#include <cstring>

#include "../core/permute_plan.h"
#include "common.cuh"
#include "device.h"
#include "shape.h"

namespace mm::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kMaxGrid = 65535;
using u64 = unsigned long long;

inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
inline int64_t clamp64(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : (v > hi ? hi : v); }

// ---- unit selection: the widest of 16/8/4/2 bytes dividing every byte count and address ----

struct UnitCheck {
  int64_t bytes[8];
  int count = 0;
  void add(int64_t b) { bytes[count++] = b; }
  void add_ptr(const void* p) { add(static_cast<int64_t>(reinterpret_cast<uintptr_t>(p) % 16)); }
  int widest(size_t elem) const {
    for (int w = 16; w > static_cast<int>(elem); w /= 2) {
      bool ok = true;
      for (int i = 0; ok && i < count; i++) ok = bytes[i] % w == 0;
      if (ok) return w;
    }
    return static_cast<int>(elem);
  }
};

// Calls f(U{}) with the unsigned type of `width` bytes.
template <class F>
mm_status with_unit(int width, F&& f) {
  switch (width) {
    case 16: return f(int4{});
    case 8: return f(u64{});
    case 4: return f(uint32_t{});
    default: return f(uint16_t{});
  }
}

// `pattern` (elem bytes) repeated over a unit.
template <class U>
U repeat_pattern(uint32_t pattern, size_t elem) {
  unsigned char bytes[sizeof(U)];
  for (size_t at = 0; at < sizeof(U); at += elem) std::memcpy(bytes + at, &pattern, elem);  // little-endian: the low elem bytes
  U u;
  std::memcpy(&u, bytes, sizeof(U));
  return u;
}

// ---- copies ----

// dst[o * dst_row + k] = src[o * src_row + k] for k < run (pointers already at the window start).
template <class U>
__global__ void window_kernel(const U* src, U* dst, int64_t outer, int64_t run, int64_t src_row, int64_t dst_row) {
  const int64_t total = outer * run;
  for (int64_t e = global_thread(); e < total; e += grid_stride()) {
    const int64_t o = e / run, k = e - o * run;
    dst[o * dst_row + k] = src[o * src_row + k];
  }
}

template <class U>
__global__ void pad_kernel(const U* __restrict__ src, U* __restrict__ dst, int64_t total, int64_t dst_row, int64_t before, int64_t src_row, U fill) {
  for (int64_t e = global_thread(); e < total; e += grid_stride()) {
    const int64_t o = e / dst_row, k = e - o * dst_row - before;
    dst[e] = k >= 0 && k < src_row ? src[o * src_row + k] : fill;
  }
}

template <class U>
__global__ void gather_kernel(const U* __restrict__ src, int64_t outer, int64_t size, int64_t inner, const int32_t* __restrict__ idx, int64_t k,
                              U* __restrict__ dst, int* error_flag) {
  const int64_t total = outer * k * inner;
  for (int64_t e = global_thread(); e < total; e += grid_stride()) {
    const int64_t row = e / inner, c = e - row * inner, o = row / k, j = row - o * k;
    const int32_t id = idx[j];
    if (id >= 0 && id < size) {
      dst[e] = src[(o * size + id) * inner + c];
    } else {
      dst[e] = U{};
      if (c == 0 && o == 0) report_device_error(error_flag, kIndexOutOfRange);
    }
  }
}

// For outputs with no elements: the indices are still checked, as on the CPU.
__global__ void check_indices_kernel(const int32_t* __restrict__ idx, int64_t k, int64_t size, int* error_flag) {
  for (int64_t j = global_thread(); j < k; j += grid_stride()) {
    if (idx[j] < 0 || idx[j] >= size) report_device_error(error_flag, kIndexOutOfRange);
  }
}

// ---- permute ----

struct PermuteIndex {
  int ndim;
  int64_t shape[MM_MAX_DIMS];
  int64_t in_stride[MM_MAX_DIMS];
};

// dst[e] = src[offset of output element e]; coalesced writes, and coalesced reads whenever the
// last axis has input stride 1.
template <class U>
__global__ void permute_strided_kernel(const U* __restrict__ src, U* __restrict__ dst, int64_t numel, PermuteIndex p) {
  for (int64_t e = global_thread(); e < numel; e += grid_stride()) {
    int64_t rest = e, off = 0;
    for (int d = p.ndim - 1; d >= 0; d--) {
      const int64_t q = rest / p.shape[d];
      off += (rest - q * p.shape[d]) * p.in_stride[d];
      rest = q;
    }
    dst[e] = src[off];
  }
}

constexpr int kTile = 32;
constexpr int kTileRows = 8;

struct TransposeIndex {
  int ndim, p;  // collapsed axes; p: the output axis that is contiguous in the input
  int64_t shape[MM_MAX_DIMS], in_stride[MM_MAX_DIMS], out_stride[MM_MAX_DIMS];
  int64_t n_p, n_q, q_in_stride, p_out_stride;  // q: the output's last axis
  int64_t batches, p_tiles, q_tiles;
};

// Block (32, 8); grid.x over tiles, grid.y over batches (both grid-stride). A tile is read with
// threads along p (contiguous in the input) and written with threads along q (contiguous in
// the output); the +1 column keeps the transposed shared-memory reads free of bank conflicts.
template <class T>
__global__ void transpose_kernel(const T* __restrict__ src, T* __restrict__ dst, TransposeIndex t) {
  __shared__ T tile[kTile][kTile + 1];
  const int tx = threadIdx.x, ty = threadIdx.y;
  const int last = t.ndim - 1;
  for (int64_t batch = blockIdx.y; batch < t.batches; batch += gridDim.y) {
    int64_t rest = batch, in_off = 0, out_off = 0;
    for (int d = last - 1; d >= 0; d--) {
      if (d == t.p) continue;
      const int64_t coord = rest % t.shape[d];
      rest /= t.shape[d];
      in_off += coord * t.in_stride[d];
      out_off += coord * t.out_stride[d];
    }
    for (int64_t unit = blockIdx.x; unit < t.p_tiles * t.q_tiles; unit += gridDim.x) {
      const int64_t i0 = (unit / t.q_tiles) * kTile, j0 = (unit % t.q_tiles) * kTile;
      for (int r = ty; r < kTile; r += kTileRows) {
        const int64_t i = i0 + tx, j = j0 + r;
        if (i < t.n_p && j < t.n_q) tile[r][tx] = src[in_off + i + j * t.q_in_stride];
      }
      __syncthreads();
      for (int r = ty; r < kTile; r += kTileRows) {
        const int64_t i = i0 + r, j = j0 + tx;
        if (i < t.n_p && j < t.n_q) dst[out_off + i * t.p_out_stride + j] = tile[tx][r];
      }
      __syncthreads();
    }
  }
}

using Collapsed = PermutePlan;  // core/permute_plan.h: the CPU's plan

template <class T>
mm_status transpose_typed(const void* src, void* dst, const Collapsed& c, int p) {
  TransposeIndex t{};
  t.ndim = c.ndim;
  t.p = p;
  int64_t s = 1;
  for (int d = c.ndim - 1; d >= 0; d--) {
    t.shape[d] = c.shape[d];
    t.in_stride[d] = c.in_stride[d];
    t.out_stride[d] = s;
    s *= c.shape[d];
  }
  const int last = c.ndim - 1;
  t.n_p = c.shape[p];
  t.n_q = c.shape[last];
  t.q_in_stride = c.in_stride[last];
  t.p_out_stride = t.out_stride[p];
  t.batches = s / (t.n_p * t.n_q);
  t.p_tiles = ceil_div(t.n_p, kTile);
  t.q_tiles = ceil_div(t.n_q, kTile);
  const dim3 grid(static_cast<unsigned>(clamp64(t.p_tiles * t.q_tiles, 1, int64_t{kMaxGrid} * 16)), static_cast<unsigned>(clamp64(t.batches, 1, kMaxGrid)));
  return launch("permute", transpose_kernel<T>, grid, dim3(kTile, kTileRows), 0, static_cast<const T*>(src), static_cast<T*>(dst), t);
}

// ---- scatter_add: sort (index, position) keys, then one pass over the destination ----

constexpr int kSortTile = 2048;
constexpr int kSortThreads = 1024;

// Key of position j with index id: id in the high word (invalid ids as 0xffffffff, after every
// valid row), j in the low word. Keys are unique, so any correct sort gives the same order.
__device__ __forceinline__ u64 make_key(int32_t id, int64_t j, int64_t size) {
  const uint32_t row = id >= 0 && id < size ? static_cast<uint32_t>(id) : 0xffffffffu;
  return (static_cast<u64>(row) << 32) | static_cast<u64>(j);
}

// Sorts each tile of kSortTile keys (built from idx) in shared memory with a bitonic network.
__global__ void sort_tiles_kernel(const int32_t* __restrict__ idx, int64_t k, int64_t size, u64* __restrict__ keys, int* error_flag) {
  __shared__ u64 s[kSortTile];
  const int64_t base = int64_t{blockIdx.x} * kSortTile;
  for (int t = threadIdx.x; t < kSortTile; t += blockDim.x) {
    const int64_t j = base + t;
    if (j < k) {
      const int32_t id = idx[j];
      if (id < 0 || id >= size) report_device_error(error_flag, kIndexOutOfRange);
      s[t] = make_key(id, j, size);
    } else {
      s[t] = ~0ull;  // padding sorts last and is not written back
    }
  }
  for (int width = 2; width <= kSortTile; width *= 2) {
    for (int stride = width / 2; stride > 0; stride /= 2) {
      __syncthreads();
      for (int t = threadIdx.x; t < kSortTile / 2; t += blockDim.x) {
        const int i = 2 * t - (t & (stride - 1)), j = i + stride;
        const bool ascending = (i & width) == 0;
        const u64 a = s[i], b = s[j];
        if ((a > b) == ascending) {
          s[i] = b;
          s[j] = a;
        }
      }
    }
  }
  __syncthreads();
  for (int t = threadIdx.x; t < kSortTile; t += blockDim.x) {
    if (base + t < k) keys[base + t] = s[t];
  }
}

// Number of keys in [begin, end) of a sorted array that are < key.
__device__ __forceinline__ int64_t count_below(const u64* a, int64_t begin, int64_t end, u64 key) {
  int64_t lo = begin, hi = end;
  while (lo < hi) {
    const int64_t mid = lo + (hi - lo) / 2;
    if (a[mid] < key) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo - begin;
}

// Merges sorted runs of `width` pairwise: a key's output position is its rank in its own run
// plus the number of keys below it in the other run (keys are unique).
__global__ void merge_pass_kernel(const u64* __restrict__ in, u64* __restrict__ out, int64_t k, int64_t width) {
  for (int64_t e = global_thread(); e < k; e += grid_stride()) {
    const int64_t base = (e / (2 * width)) * (2 * width);
    const int64_t a_end = base + width < k ? base + width : k, b_end = base + 2 * width < k ? base + 2 * width : k;
    const u64 key = in[e];
    const int64_t pos = e < a_end ? (e - base) + count_below(in, a_end, b_end, key) : (e - a_end) + count_below(in, base, a_end, key);
    out[base + pos] = key;
  }
}

// row_start[r] = first sorted key of row r (r in [0, size]); rows past 0xfffffffe are empty.
__global__ void row_starts_kernel(const u64* __restrict__ keys, int64_t k, int64_t size, int64_t* __restrict__ row_start) {
  for (int64_t r = global_thread(); r <= size; r += grid_stride()) {
    const u64 row = r < 0xffffffffll ? static_cast<u64>(r) : 0xffffffffull;
    row_start[r] = count_below(keys, 0, k, row << 32);
  }
}

// Rows with more sources than this are summed by scatter_heavy_kernel, kHeavyLanes lanes each.
constexpr int64_t kHeavy = 64;
constexpr int kHeavyLanes = 8;

// dst[o, r, c] = sum in ascending j of grad[o, j, c] over the sorted run of row r, in double
// (one thread per output element: the CPU's order and arithmetic). Rows with more than kHeavy
// sources (a padding id repeated thousands of times) would make their threads long serial
// chains; they are listed in `heavy` instead (in any order: each row's sum is fixed-order).
__global__ void scatter_rows_kernel(const float* __restrict__ grad, int64_t outer, int64_t k, int64_t inner, const u64* __restrict__ keys,
                                    const int64_t* __restrict__ row_start, int64_t size, float* __restrict__ dst, int* __restrict__ heavy,
                                    int* __restrict__ heavy_count) {
  const int64_t total = outer * size * inner;
  for (int64_t e = global_thread(); e < total; e += grid_stride()) {
    const int64_t row = e / inner, c = e - row * inner, o = row / size, r = row - o * size;
    const int64_t begin = row_start[r], end = row_start[r + 1];
    if (end - begin > kHeavy) {
      if (c == 0 && o == 0) heavy[atomicAdd(heavy_count, 1)] = static_cast<int>(r);
      continue;
    }
    const float* g = grad + o * k * inner + c;
    double acc = 0;
#pragma unroll 4
    for (int64_t h = begin; h < end; h++) acc += g[static_cast<int64_t>(keys[h] & 0xffffffffull) * inner];
    dst[e] = static_cast<float>(acc);
  }
}

// The heavy rows: block (32 columns, kHeavyLanes lanes); lane t sums sources t, t + lanes, ...
// in double, and the lanes are added in lane order: a fixed order, so still deterministic.
// grid.x covers column blocks, grid.y (heavy row, outer slice) units.
__global__ void scatter_heavy_kernel(const float* __restrict__ grad, int64_t outer, int64_t k, int64_t inner, const u64* __restrict__ keys,
                                     const int64_t* __restrict__ row_start, int64_t size, float* __restrict__ dst, const int* __restrict__ heavy,
                                     const int* __restrict__ heavy_count) {
  __shared__ double lanes[kHeavyLanes][kWarp];
  const int tx = threadIdx.x, ty = threadIdx.y;
  const int64_t c = int64_t{blockIdx.x} * kWarp + tx;
  const int64_t units = int64_t{*heavy_count} * outer;
  for (int64_t unit = blockIdx.y; unit < units; unit += gridDim.y) {
    const int64_t r = heavy[unit / outer], o = unit % outer;
    const int64_t begin = row_start[r], end = row_start[r + 1];
    double acc = 0;
    if (c < inner) {
      const float* g = grad + o * k * inner + c;
#pragma unroll 4
      for (int64_t h = begin + ty; h < end; h += kHeavyLanes) acc += g[static_cast<int64_t>(keys[h] & 0xffffffffull) * inner];
    }
    lanes[ty][tx] = acc;
    __syncthreads();
    if (ty == 0 && c < inner) {
      double sum = 0;
      for (int t = 0; t < kHeavyLanes; t++) sum += lanes[t][tx];
      dst[(o * size + r) * inner + c] = static_cast<float>(sum);
    }
    __syncthreads();
  }
}

}  // namespace

mm_status permute(const void* src, int ndim, const int64_t* src_shape, const int* dims, void* dst, size_t elem) {
  int64_t numel = 1;
  for (int d = 0; d < ndim; d++) numel *= src_shape[d];
  if (numel == 0) return MM_OK;
  Collapsed c = plan_permute(ndim, src_shape, dims);
  if (c.ndim == 0) {  // one element
    c.ndim = 1;
    c.shape[0] = 1;
    c.in_stride[0] = 1;
  }
  const int last = c.ndim - 1;
  if (c.in_stride[last] != 1) {
    int p = 0;
    while (c.in_stride[p] != 1) p++;
    if (c.shape[p] >= 16 && c.shape[last] >= 16) {
      return elem == 2 ? transpose_typed<uint16_t>(src, dst, c, p) : transpose_typed<uint32_t>(src, dst, c, p);
    }
  }
  // Strided copy; when the last axis is contiguous in the input, in the widest unit its length
  // and the other strides allow.
  UnitCheck check;
  check.add_ptr(src);
  check.add_ptr(dst);
  if (c.in_stride[last] == 1) {
    check.add(c.shape[last] * static_cast<int64_t>(elem));
    for (int d = 0; d < last; d++) check.add(c.in_stride[d] * static_cast<int64_t>(elem));
  } else {
    check.add(static_cast<int64_t>(elem));
  }
  const int width = check.widest(elem);
  PermuteIndex index{};
  index.ndim = c.ndim;
  const int64_t per = width / static_cast<int64_t>(elem);
  for (int d = 0; d < c.ndim; d++) {
    index.shape[d] = d == last ? c.shape[d] / per : c.shape[d];
    index.in_stride[d] = d == last ? c.in_stride[d] : c.in_stride[d] / per;
  }
  const int64_t units = numel / per;
  return with_unit(width, [&](auto u) {
    using U = decltype(u);
    return launch("permute", permute_strided_kernel<U>, blocks_for(units), kThreads, 0, static_cast<const U*>(src), static_cast<U*>(dst), units, index);
  });
}

mm_status copy_axis_window(const void* src, int64_t src_size, int64_t src_start, void* dst, int64_t dst_size, int64_t dst_start, int64_t outer,
                           int64_t count, int64_t inner, size_t elem) {
  const int64_t e = static_cast<int64_t>(elem);
  const int64_t run = count * inner * e;
  if (run == 0 || outer == 0) return MM_OK;
  const char* s = static_cast<const char*>(src) + src_start * inner * e;
  char* d = static_cast<char*>(dst) + dst_start * inner * e;
  const int64_t src_row = src_size * inner * e, dst_row = dst_size * inner * e;
  UnitCheck check;
  check.add_ptr(s);
  check.add_ptr(d);
  check.add(run);
  check.add(src_row);
  check.add(dst_row);
  const int width = check.widest(elem);
  return with_unit(width, [&](auto u) {
    using U = decltype(u);
    const int64_t units = (outer * run) / width;
    return launch("copy", window_kernel<U>, blocks_for(units), kThreads, 0, reinterpret_cast<const U*>(s), reinterpret_cast<U*>(d), outer, run / width,
                  src_row / width, dst_row / width);
  });
}

mm_status pad_axis(const void* src, int64_t size, void* dst, int64_t before, int64_t after, int64_t outer, int64_t inner, size_t elem, uint32_t fill) {
  const int64_t e = static_cast<int64_t>(elem);
  const int64_t total_size = before + size + after;
  const int64_t dst_row = total_size * inner * e, src_row = size * inner * e, skip = before * inner * e;
  if (outer * dst_row == 0) return MM_OK;
  UnitCheck check;
  check.add_ptr(src);
  check.add_ptr(dst);
  check.add(dst_row);
  check.add(src_row);
  check.add(skip);
  const int width = check.widest(elem);
  return with_unit(width, [&](auto u) {
    using U = decltype(u);
    const int64_t units = outer * dst_row / width;
    return launch("pad", pad_kernel<U>, blocks_for(units), kThreads, 0, static_cast<const U*>(src), static_cast<U*>(dst), units, dst_row / width,
                  skip / width, src_row / width, repeat_pattern<U>(fill, elem));
  });
}

mm_status gather_axis(const char* op, const void* src, int64_t outer, int64_t size, int64_t inner, const int32_t* idx, int64_t k, void* dst, size_t elem) {
  if (k == 0) return MM_OK;
  note_checking_op(op);
  if (outer * inner == 0) return launch(op, check_indices_kernel, blocks_for(k), kThreads, 0, idx, k, size, device_error_flag());
  const int64_t row = inner * static_cast<int64_t>(elem);
  UnitCheck check;
  check.add_ptr(src);
  check.add_ptr(dst);
  check.add(row);
  const int width = check.widest(elem);
  return with_unit(width, [&](auto u) {
    using U = decltype(u);
    const int64_t inner_u = row / width;
    return launch(op, gather_kernel<U>, blocks_for(outer * k * inner_u), kThreads, 0, static_cast<const U*>(src), outer, size, inner_u, idx, k,
                  static_cast<U*>(dst), device_error_flag());
  });
}

mm_status scatter_add_axis(const char* op, const float* grad, int64_t outer, int64_t k, int64_t inner, const int32_t* idx, int64_t size, float* dst) {
  if (k >= (int64_t{1} << 32)) return fail(MM_ERR_SHAPE, "%s: %lld indices; at most 2^32 - 1 are supported on CUDA", op, static_cast<long long>(k));
  if (k > 0) note_checking_op(op);
  if (outer * size * inner == 0) {
    if (k == 0) return MM_OK;
    return launch(op, check_indices_kernel, blocks_for(k), kThreads, 0, idx, k, size, device_error_flag());
  }
  Scratch keys, spare, starts, heavy;
  MM_TRY(keys.allocate(static_cast<size_t>(k) * sizeof(u64)));
  MM_TRY(starts.allocate(static_cast<size_t>(size + 1) * sizeof(int64_t)));
  // At most k / (kHeavy + 1) rows are heavy; the list's count first.
  const int64_t max_heavy = k / (kHeavy + 1);
  MM_TRY(heavy.allocate(static_cast<size_t>(max_heavy + 1) * sizeof(int)));
  int* heavy_count = heavy.as<int>();
  int* heavy_rows = heavy_count + 1;
  MM_CUDA_CHECK(cudaMemsetAsync(heavy_count, 0, sizeof(int), stream()), "cudaMemsetAsync (scatter)");
  u64* sorted = keys.as<u64>();
  if (k > 0) {
    MM_TRY(launch(op, sort_tiles_kernel, static_cast<unsigned>(ceil_div(k, kSortTile)), kSortThreads, 0, idx, k, size, sorted, device_error_flag()));
    if (k > kSortTile) {
      MM_TRY(spare.allocate(static_cast<size_t>(k) * sizeof(u64)));
      u64* other = spare.as<u64>();
      for (int64_t width = kSortTile; width < k; width *= 2) {
        MM_TRY(launch(op, merge_pass_kernel, blocks_for(k), kThreads, 0, sorted, other, k, width));
        u64* t = sorted;
        sorted = other;
        other = t;
      }
    }
  }
  MM_TRY(launch(op, row_starts_kernel, blocks_for(size + 1), kThreads, 0, sorted, k, size, starts.as<int64_t>()));
  MM_TRY(launch(op, scatter_rows_kernel, blocks_for(outer * size * inner), kThreads, 0, grad, outer, k, inner, sorted, starts.as<int64_t>(), size, dst,
                heavy_rows, heavy_count));
  if (max_heavy == 0) return MM_OK;
  // Sized for the most heavy rows there can be; blocks past the actual count exit at once.
  const dim3 grid(static_cast<unsigned>(ceil_div(inner, kWarp)), static_cast<unsigned>(clamp64(max_heavy * outer, 1, kMaxGrid)));
  return launch(op, scatter_heavy_kernel, grid, dim3(kWarp, kHeavyLanes), 0, grad, outer, k, inner, sorted, starts.as<int64_t>(), size, dst, heavy_rows,
                heavy_count);
}

}  // namespace mm::cuda
