// Broadcast iteration for the CPU kernels: an output shape and, per operand, element strides
// (0 along broadcast dimensions). Work is handed out as runs along the last dimension, so the
// inner loop is a plain strided loop the compiler vectorises when strides are 1 or 0.
#pragma once
#include <cstdint>

#include "mmcot/mmcot.h"

namespace mm::cpu {

struct BroadcastOperand {
  int64_t strides[MM_MAX_DIMS];
};

// Strides of a contiguous tensor of shape (ndim, shape) read as if broadcast to out_shape.
inline BroadcastOperand broadcast_strides(int ndim, const int64_t* shape, int out_ndim, const int64_t* out_shape) {
  BroadcastOperand op{};
  int64_t stride = 1;
  for (int i = out_ndim - 1; i >= 0; i--) {
    const int j = i - (out_ndim - ndim);
    const int64_t size = j >= 0 ? shape[j] : 1;
    op.strides[i] = (size == 1 && out_shape[i] != 1) ? 0 : stride;
    stride *= size;
  }
  return op;
}

// Calls fn(run, out_offset, offsets[], length) for each run of the last dimension, where run is
// the run's index in [0, rows) and offsets are the operands' element offsets at its start.
template <int N, class F>
void for_each_row(int ndim, const int64_t* shape, const BroadcastOperand (&ops)[N], int64_t row_begin, int64_t row_end, F&& fn) {
  if (ndim == 0) {
    int64_t offsets[N] = {};
    if (row_begin == 0 && row_end > 0) fn(int64_t{0}, offsets, int64_t{1});
    return;
  }
  const int64_t inner = shape[ndim - 1];
  for (int64_t row = row_begin; row < row_end; row++) {
    int64_t offsets[N] = {};
    int64_t rest = row;
    for (int d = ndim - 2; d >= 0; d--) {
      const int64_t coord = rest % shape[d];
      rest /= shape[d];
      for (int k = 0; k < N; k++) offsets[k] += coord * ops[k].strides[d];
    }
    fn(row, offsets, inner);
  }
}

inline int64_t row_count(int ndim, const int64_t* shape) {
  int64_t rows = 1;
  for (int d = 0; d + 1 < ndim; d++) rows *= shape[d];
  return ndim == 0 ? 1 : rows;
}

}  // namespace mm::cpu
