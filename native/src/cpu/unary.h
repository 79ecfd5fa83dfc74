// CPU kernels of the unary family (entry points and checks: ops/unary.cc).
#pragma once
#include <cstdint>

#include "mmcot/ops/unary.h"

namespace mm::cpu {

// y[i] = op(x[i]) for n elements (p0, p1: the op's scalar parameters).
void unary(mm_unary_op op, const float* x, float* y, int64_t n, float p0, float p1);
// dx[i] = g[i] * op'(x[i]), computed from x or from the forward output y (see mm_unary_backward
// for which one each op reads; the other may be null).
void unary_backward(mm_unary_op op, const float* x, const float* y, const float* g, float* dx, int64_t n, float p0, float p1);

}  // namespace mm::cpu
