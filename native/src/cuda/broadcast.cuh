// Broadcast indexing for CUDA kernels: the output shape and each operand's element strides (0
// along broadcast dimensions), passed to kernels by value.
#pragma once
#include <cstdint>

#include "../cpu/broadcast.h"
#include "common.cuh"

namespace mm::cuda {

template <int N>
struct BroadcastIndex {
  int ndim;
  int64_t shape[MM_MAX_DIMS];
  int64_t strides[N][MM_MAX_DIMS];

  // Element offsets of each operand for output element i (row-major).
  __device__ __forceinline__ void offsets(int64_t i, int64_t (&off)[N]) const {
    for (int k = 0; k < N; k++) off[k] = 0;
    for (int d = ndim - 1; d >= 0; d--) {
      const int64_t coord = i % shape[d];
      i /= shape[d];
      for (int k = 0; k < N; k++) off[k] += coord * strides[k][d];
    }
  }
};

// Operand k of shape (ndims[k], shapes[k]) broadcast to (out_ndim, out_shape).
template <int N>
BroadcastIndex<N> make_broadcast_index(const int (&ndims)[N], const int64_t* const (&shapes)[N], int out_ndim, const int64_t* out_shape) {
  BroadcastIndex<N> index{};
  index.ndim = out_ndim;
  for (int d = 0; d < out_ndim; d++) index.shape[d] = out_shape[d];
  for (int k = 0; k < N; k++) {
    const cpu::BroadcastOperand op = cpu::broadcast_strides(ndims[k], shapes[k], out_ndim, out_shape);
    for (int d = 0; d < out_ndim; d++) index.strides[k][d] = op.strides[d];
  }
  return index;
}

inline int64_t numel_of(int ndim, const int64_t* shape) {
  int64_t n = 1;
  for (int d = 0; d < ndim; d++) n *= shape[d];
  return n;
}

}  // namespace mm::cuda
