// CPU kernels of the loss family (entry points and checks: ops/loss.cc). Rows are contiguous
// runs of the last dimension.
#pragma once
#include <cstdint>

namespace mm::cpu {

// log-sum-exp of each row of x [rows, V], and logp[i] = x[i, target[i]] - lse[i] (double) for
// rows where skip is false (lse 0 and logp 0 where it is true). skip may be null.
void log_softmax_gather(const float* x, int64_t rows, int64_t V, const int32_t* target, const bool* skip, float* lse, double* logp);
// out[i, j] = row_scale[i] * (exp(x[i, j] - lse[i]) - (j == target[i])), and 0 in rows whose
// row_scale is 0 (ignored rows need not have a valid target).
void softmax_minus_onehot(const float* x, int64_t rows, int64_t V, const int32_t* target, const float* lse, const double* row_scale,
                          float* out);

// Sum over all elements of (a - b)^2 in double, in a fixed order; `none` (if not null) gets the
// elementwise squares.
double squared_error(const float* a, const float* b, int64_t n, float* none);
// out = (a - b) * scale (scale_each: per element, else the scalar `scale`).
void scaled_difference(const float* a, const float* b, int64_t n, double scale, const float* scale_each, float* out);

// Per row of a, b [rows, D]: distance[i] = 1 - cos(a_i, b_i) with clamped norms (see loss.h).
void cosine_distance_rows(const float* a, const float* b, int64_t rows, int64_t D, double eps, double* distance);
// Gradient of sum_i g_i * distance_i with respect to a (g_i = scale * (grad_each ? grad_each[i] : 1)).
void cosine_distance_grad(const float* a, const float* b, int64_t rows, int64_t D, double eps, double scale, const float* grad_each,
                          float* grad_a);

}  // namespace mm::cpu
