// The plan both backends use for a permute (cpu/shape.cc, cuda/shape.cu): size-1 axes dropped and
// output axes that stay adjacent in the input merged, leaving the output shape and, per output
// axis, the input stride. Host code.
#pragma once
#include <cstdint>

#include "mmcot/mmcot.h"

namespace mm {

struct PermutePlan {
  int ndim = 0;
  int64_t shape[MM_MAX_DIMS];
  int64_t in_stride[MM_MAX_DIMS];
};

// For dst[i_0..i_{n-1}] = src[i at positions dims], src contiguous of shape src_shape.
inline PermutePlan plan_permute(int ndim, const int64_t* src_shape, const int* dims) {
  int64_t src_stride[MM_MAX_DIMS];
  int64_t s = 1;
  for (int d = ndim - 1; d >= 0; d--) {
    src_stride[d] = s;
    s *= src_shape[d];
  }
  PermutePlan c;
  for (int d = 0; d < ndim; d++) {
    const int64_t size = src_shape[dims[d]], stride = src_stride[dims[d]];
    if (size == 1) continue;
    // Merge with the previous output axis when stepping it equals stepping this one `size` times.
    if (c.ndim > 0 && c.in_stride[c.ndim - 1] == stride * size) {
      c.shape[c.ndim - 1] *= size;
      c.in_stride[c.ndim - 1] = stride;
      continue;
    }
    c.shape[c.ndim] = size;
    c.in_stride[c.ndim] = stride;
    c.ndim++;
  }
  return c;
}

}  // namespace mm
