// CUDA kernels of the unary family; same arguments as mm::cpu:: (cpu/unary.h), device pointers,
// returning a status (entry points: ops/unary.cc via MM_DISPATCH).
#pragma once
#include <cstdint>

#include "mmcot/ops/unary.h"

namespace mm::cuda {

mm_status unary(mm_unary_op op, const float* x, float* y, int64_t n, float p0, float p1);
mm_status unary_backward(mm_unary_op op, const float* x, const float* y, const float* g, float* dx, int64_t n, float p0, float p1);

}  // namespace mm::cuda
