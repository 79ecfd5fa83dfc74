// Batch broadcasting for batched matrix products, shared by the CPU entry point (ops/gemm.cc)
// and the CUDA kernels (cuda/gemm.cu, gemm_cublaslt.cu): which matrix of A and of B batch item
// `item` reads, on the host and on the device.
#pragma once
#include <stdint.h>

#include "mmcot/mmcot.h"
#include "philox.h"  // MM_HOST_DEVICE

namespace mm {

struct GemmBatchIndex {
  int ndim = 0;  // batch dimensions (0: the items are consecutive matrices of both operands)
  int64_t shape[MM_MAX_DIMS] = {};
  int64_t a_stride[MM_MAX_DIMS] = {};  // in matrices; 0 along dimensions where the operand broadcasts
  int64_t b_stride[MM_MAX_DIMS] = {};

  MM_HOST_DEVICE void offsets(int64_t item, int64_t* a, int64_t* b) const {
    if (ndim == 0) {
      *a = *b = item;
      return;
    }
    int64_t oa = 0, ob = 0;
    for (int d = ndim - 1; d >= 0; d--) {
      const int64_t coord = item % shape[d];
      item /= shape[d];
      oa += coord * a_stride[d];
      ob += coord * b_stride[d];
    }
    *a = oa;
    *b = ob;
  }
};

}  // namespace mm
