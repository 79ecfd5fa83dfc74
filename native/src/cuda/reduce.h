// CUDA kernels of the reduce family; same arguments as mm::cpu:: (cpu/reduce.h), device
// pointers, returning a status (entry points: ops/reduce.cc via MM_DISPATCH).
#pragma once
#include <cstdint>

#include "mmcot/mmcot.h"

namespace mm::cuda {

mm_status reduce_sum(const float* x, int64_t outer, int64_t n, int64_t inner, bool squares, double scale, float* out);
mm_status reduce_max(const float* x, int64_t outer, int64_t n, int64_t inner, float* values, int32_t* indices);
mm_status reduce_sum_backward(const float* g, const float* x, int64_t outer, int64_t n, int64_t inner, float scale, float* dx);
// Indices outside [0, n) set the device error flag (kIndexOutOfRange); their gradient is dropped.
mm_status reduce_max_backward(const float* g, const int32_t* indices, int64_t outer, int64_t n, int64_t inner, float* dx);

}  // namespace mm::cuda
