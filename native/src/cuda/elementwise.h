// CUDA kernels of the elementwise family; same arguments as mm::cpu:: (cpu/elementwise.h),
// device pointers, returning a status (entry points: ops/elementwise.cc via MM_DISPATCH).
#pragma once
#include "mmcot/ops/elementwise.h"

namespace mm::cuda {

mm_status binary(mm_binary_op op, const float* a, int a_ndim, const int64_t* a_shape, const float* b, int b_ndim,
                 const int64_t* b_shape, float* out, int out_ndim, const int64_t* out_shape);
mm_status sum_to(const float* in, int in_ndim, const int64_t* in_shape, float* out, int out_ndim, const int64_t* out_shape);

}  // namespace mm::cuda
