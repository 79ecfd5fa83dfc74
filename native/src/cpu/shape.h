// CPU kernels of the shape family (entry points and checks: ops/shape.cc, ops/embedding.cc).
// Copies work on raw elements of `elem` bytes (2 or 4), so they serve every dtype.
#pragma once
#include <cstddef>
#include <cstdint>

namespace mm::cpu {

// dst[i_0..i_{n-1}] = src[i at positions dims], for src of shape src_shape (contiguous).
void permute(const void* src, int ndim, const int64_t* src_shape, const int* dims, void* dst, size_t elem);

// For each of `outer` rows: `count` axis steps of `inner` elements, from src (axis length
// src_size, starting at src_start) to dst (axis length dst_size, starting at dst_start).
// Concat, slice and pad are all this copy.
void copy_axis_window(const void* src, int64_t src_size, int64_t src_start, void* dst, int64_t dst_size, int64_t dst_start,
                      int64_t outer, int64_t count, int64_t inner, size_t elem);

// dst[o, j, :] = src[o, idx[j], :] for src [outer, size, inner], dst [outer, k, inner].
// Indices must already be checked to lie in [0, size).
void gather_axis(const void* src, int64_t outer, int64_t size, int64_t inner, const int32_t* idx, int64_t k, void* dst, size_t elem);

// dst[o, r, :] = sum over j with idx[j] == r of grad[o, j, :] (zero where no j), for grad
// [outer, k, inner] and dst [outer, size, inner]. Race free: indices are bucketed by row, and each
// destination row is summed (in double, in ascending j) by one thread.
void scatter_add_axis(const float* grad, int64_t outer, int64_t k, int64_t inner, const int32_t* idx, int64_t size, float* dst);

}  // namespace mm::cpu
