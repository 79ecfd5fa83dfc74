// CUDA kernels of the normalisation family; same arguments as mm::cpu:: (cpu/norm.h), device
// pointers, returning a status (entry points: ops/norm.cc via MM_DISPATCH). Outputs passed as
// null are not computed.
#pragma once
#include <cstdint>

#include "mmcot/mmcot.h"

namespace mm::cuda {

mm_status rms_norm(const float* x, const float* weight, int64_t rows, int64_t d, double eps, float* y, float* rstd);
mm_status rms_norm_backward(const float* dy, const float* x, const float* weight, const float* rstd, int64_t rows, int64_t d,
                            float* dx, float* dweight);

// weight and bias may be null (no affine part).
mm_status layer_norm(const float* x, const float* weight, const float* bias, int64_t rows, int64_t d, double eps, float* y,
                     float* rstd);
mm_status layer_norm_backward(const float* dy, const float* x, const float* weight, const float* rstd, int64_t rows, int64_t d,
                              float* dx, float* dweight, float* dbias);

// Rows come in `groups` consecutive runs of `rows_per_group`; run g uses shift/scale row g.
mm_status modulate(const float* x, const float* shift, const float* scale, int64_t groups, int64_t rows_per_group, int64_t d,
                   float* y);
mm_status modulate_backward(const float* dy, const float* x, const float* scale, int64_t groups, int64_t rows_per_group, int64_t d,
                            float* dx, float* dshift, float* dscale);

}  // namespace mm::cuda
