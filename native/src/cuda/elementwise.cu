// CUDA elementwise family: broadcast binary ops (a contiguous fast path and a strided one) and
// sum_to, the reduction that undoes a broadcast in the backward.
#include "broadcast.cuh"
#include "elementwise.h"
#include "reduce.h"

namespace mm::cuda {
namespace {

__device__ __forceinline__ float apply(mm_binary_op op, float x, float y) {
  switch (op) {
    case MM_BINARY_ADD: return x + y;
    case MM_BINARY_SUB: return x - y;
    case MM_BINARY_MUL: return x * y;
    default: return x / y;
  }
}

__global__ void binary_same_shape_kernel(mm_binary_op op, const float* a, const float* b, float* out, int64_t n) {
  for (int64_t i = global_thread(); i < n; i += grid_stride()) out[i] = apply(op, a[i], b[i]);
}

__global__ void binary_scalar_kernel(mm_binary_op op, const float* a, const float* b, bool scalar_is_a, float* out, int64_t n) {
  const float s = scalar_is_a ? a[0] : b[0];
  const float* v = scalar_is_a ? b : a;
  for (int64_t i = global_thread(); i < n; i += grid_stride()) out[i] = scalar_is_a ? apply(op, s, v[i]) : apply(op, v[i], s);
}

__global__ void binary_broadcast_kernel(mm_binary_op op, const float* a, const float* b, float* out, int64_t n, BroadcastIndex<2> index) {
  for (int64_t i = global_thread(); i < n; i += grid_stride()) {
    int64_t off[2];
    index.offsets(i, off);
    out[i] = apply(op, a[off[0]], b[off[1]]);
  }
}

// sum_to: output element o sums the input elements that broadcast from it. The input is seen as
// [outer reduced] x [kept] x ... ; we index the input by (output element, reduced element) with
// one thread per output element and a strided walk over the reduced ones, accumulating in
// double. Consecutive threads take consecutive output elements, so reads coalesce when the kept
// dimensions are the innermost (the usual bias-gradient case).
struct SumToIndex {
  int ndim;
  int64_t in_shape[MM_MAX_DIMS];
  int64_t in_strides[MM_MAX_DIMS];
  bool reduced[MM_MAX_DIMS];  // input dimension summed away (output size 1 or missing)
  int64_t reduced_count;
};

__global__ void sum_to_kernel(const float* in, float* out, int64_t out_n, SumToIndex index) {
  for (int64_t o = global_thread(); o < out_n; o += grid_stride()) {
    // Input offset of the kept coordinates of o.
    int64_t base = 0, rest = o;
    for (int d = index.ndim - 1; d >= 0; d--) {
      if (index.reduced[d]) continue;
      base += (rest % index.in_shape[d]) * index.in_strides[d];
      rest /= index.in_shape[d];
    }
    double acc = 0;
    for (int64_t r = 0; r < index.reduced_count; r++) {
      int64_t off = base, rr = r;
      for (int d = index.ndim - 1; d >= 0; d--) {
        if (!index.reduced[d]) continue;
        off += (rr % index.in_shape[d]) * index.in_strides[d];
        rr /= index.in_shape[d];
      }
      acc += in[off];
    }
    out[o] = static_cast<float>(acc);
  }
}

}  // namespace

mm_status binary(mm_binary_op op, const float* a, int a_ndim, const int64_t* a_shape, const float* b, int b_ndim,
                 const int64_t* b_shape, float* out, int out_ndim, const int64_t* out_shape) {
  const int64_t n = numel_of(out_ndim, out_shape);
  if (n == 0) return MM_OK;
  const int64_t na = numel_of(a_ndim, a_shape), nb = numel_of(b_ndim, b_shape);
  if (na == n && nb == n) return launch("binary", binary_same_shape_kernel, blocks_for(n), 256, 0, op, a, b, out, n);
  if (na == 1 && nb == n) return launch("binary", binary_scalar_kernel, blocks_for(n), 256, 0, op, a, b, true, out, n);
  if (nb == 1 && na == n) return launch("binary", binary_scalar_kernel, blocks_for(n), 256, 0, op, a, b, false, out, n);
  const BroadcastIndex<2> index = make_broadcast_index<2>({a_ndim, b_ndim}, {a_shape, b_shape}, out_ndim, out_shape);
  return launch("binary", binary_broadcast_kernel, blocks_for(n), 256, 0, op, a, b, out, n, index);
}

// When the summed dimensions form one contiguous run (the usual cases: a bias gradient [rows, d]
// -> [d], or [b, t, d] -> [b, t, 1]), the input is [outer, n, inner] with n summed: the reduce
// family's kernels do it with coalesced, two-stage, deterministic reductions. Returns false for
// other patterns.
bool as_one_reduction(int in_ndim, const int64_t* in_shape, int out_ndim, const int64_t* out_shape, int64_t* outer, int64_t* n,
                      int64_t* inner) {
  int first = -1, last = -1;
  for (int d = 0; d < in_ndim; d++) {
    const int j = d - (in_ndim - out_ndim);
    if ((j < 0 || out_shape[j] == 1) && in_shape[d] != 1) {
      if (first < 0) first = d;
      last = d;
    }
  }
  *outer = *n = *inner = 1;
  for (int d = 0; d < in_ndim; d++) {
    const int j = d - (in_ndim - out_ndim);
    const bool summed = (j < 0 || out_shape[j] == 1) && in_shape[d] != 1;
    if (first >= 0 && d >= first && d <= last && !summed && in_shape[d] != 1) return false;  // a kept dimension inside the run
    (first < 0 || d < first ? *outer : d <= last ? *n : *inner) *= in_shape[d];
  }
  return true;
}

mm_status sum_to(const float* in, int in_ndim, const int64_t* in_shape, float* out, int out_ndim, const int64_t* out_shape) {
  const int64_t out_n = numel_of(out_ndim, out_shape);
  if (out_n == 0) return MM_OK;
  int64_t outer, n, inner;
  if (as_one_reduction(in_ndim, in_shape, out_ndim, out_shape, &outer, &n, &inner))
    return reduce_sum(in, outer, n, inner, false, 1.0, out);
  SumToIndex index{};
  index.ndim = in_ndim;
  index.reduced_count = 1;
  int64_t stride = 1;
  for (int d = in_ndim - 1; d >= 0; d--) {
    const int j = d - (in_ndim - out_ndim);
    index.in_shape[d] = in_shape[d];
    index.in_strides[d] = stride;
    stride *= in_shape[d];
    index.reduced[d] = (j < 0 || out_shape[j] == 1) && in_shape[d] != 1;
    if (index.reduced[d]) index.reduced_count *= in_shape[d];
  }
  return launch("sumTo", sum_to_kernel, blocks_for(out_n), 256, 0, in, out, out_n, index);
}

}  // namespace mm::cuda
