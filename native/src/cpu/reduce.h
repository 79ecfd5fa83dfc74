// CPU kernels of the reduce family (entry points and checks: ops/reduce.cc). Every kernel sees
// its input as [outer, n, inner] with the reduced axis in the middle; outputs are [outer, inner].
#pragma once
#include <cstdint>

namespace mm::cpu {

// out = scale * sum over the axis of x (or of x*x when `squares`), accumulated in double.
// Work splits depend only on the shape, so results do not depend on the thread count.
void reduce_sum(const float* x, int64_t outer, int64_t n, int64_t inner, bool squares, double scale, float* out);
// Maximum over the axis (n >= 1) and its first index; NaN counts as the largest value.
void reduce_max(const float* x, int64_t outer, int64_t n, int64_t inner, float* values, int32_t* indices);
// dx[o, j, i] = scale * g[o, i], times 2 * x[o, j, i] when x is given (sum of squares).
void reduce_sum_backward(const float* g, const float* x, int64_t outer, int64_t n, int64_t inner, float scale, float* dx);
// dx = 0 except dx[o, indices[o, i], i] = g[o, i].
void reduce_max_backward(const float* g, const int32_t* indices, int64_t outer, int64_t n, int64_t inner, float* dx);

}  // namespace mm::cpu
