// CPU kernels of the normalisation family (entry points and checks: ops/norm.cc). Tensors are
// seen as [rows, d] with d the last dimension; outputs passed as null are not computed.
#pragma once
#include <cstdint>

namespace mm::cpu {

void rms_norm(const float* x, const float* weight, int64_t rows, int64_t d, double eps, float* y, float* rstd);
void rms_norm_backward(const float* dy, const float* x, const float* weight, const float* rstd, int64_t rows, int64_t d, float* dx,
                       float* dweight);

// weight and bias may be null (no affine part).
void layer_norm(const float* x, const float* weight, const float* bias, int64_t rows, int64_t d, double eps, float* y, float* rstd);
void layer_norm_backward(const float* dy, const float* x, const float* weight, const float* rstd, int64_t rows, int64_t d, float* dx,
                         float* dweight, float* dbias);

// Rows come in `groups` consecutive runs of `rows_per_group`; run g uses shift/scale row g.
void modulate(const float* x, const float* shift, const float* scale, int64_t groups, int64_t rows_per_group, int64_t d, float* y);
void modulate_backward(const float* dy, const float* x, const float* scale, int64_t groups, int64_t rows_per_group, int64_t d,
                       float* dx, float* dshift, float* dscale);

}  // namespace mm::cpu
