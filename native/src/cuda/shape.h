// CUDA kernels of the shape family (and the embedding lookup, which is a gather). Arguments as
// mm::cpu:: (cpu/shape.h), device pointers, returning a status; the kernels that read indices
// also take the op's name for the device error they may raise (entry points: ops/shape.cc,
// ops/embedding.cc).
#pragma once
#include <cstddef>
#include <cstdint>

#include "mmcot/mmcot.h"

namespace mm::cuda {

mm_status permute(const void* src, int ndim, const int64_t* src_shape, const int* dims, void* dst, size_t elem);
mm_status copy_axis_window(const void* src, int64_t src_size, int64_t src_start, void* dst, int64_t dst_size, int64_t dst_start, int64_t outer,
                           int64_t count, int64_t inner, size_t elem);
// pad in one pass: dst [outer, before + size + after, inner] gets src [outer, size, inner] at
// `before` along the axis and the element bit pattern `fill` (elem bytes, low bits) elsewhere.
mm_status pad_axis(const void* src, int64_t size, void* dst, int64_t before, int64_t after, int64_t outer, int64_t inner, size_t elem, uint32_t fill);
// Indices outside [0, size) raise a device error for `op` (kIndexOutOfRange at the next host
// wait); gather writes zeros for them and scatter_add drops them.
mm_status gather_axis(const char* op, const void* src, int64_t outer, int64_t size, int64_t inner, const int32_t* idx, int64_t k, void* dst, size_t elem);
mm_status scatter_add_axis(const char* op, const float* grad, int64_t outer, int64_t k, int64_t inner, const int32_t* idx, int64_t size, float* dst);

}  // namespace mm::cuda
