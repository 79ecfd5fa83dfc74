// CPU kernels of the elementwise family (entry points and checks: ops/elementwise.cc).
#pragma once
#include "mmcot/ops/elementwise.h"

namespace mm::cpu {

void binary(mm_binary_op op, const float* a, int a_ndim, const int64_t* a_shape, const float* b, int b_ndim,
            const int64_t* b_shape, float* out, int out_ndim, const int64_t* out_shape);
void sum_to(const float* in, int in_ndim, const int64_t* in_shape, float* out, int out_ndim, const int64_t* out_shape);

}  // namespace mm::cpu
