// CUDA kernels of the diffusion family (entry points: ops/diffusion.cc). The timesteps and the
// schedule table stay on the device: each kernel computes its rows' coefficients there, in
// double, from the table's hi + lo floats (the same formulas as the CPU entry points), so a
// sampling loop never reads a tensor back to the host. Invalid timesteps set the device error
// flag (kTimestepOutOfRange) and zero their rows.
#pragma once
#include <cstdint>

#include "mmcot/mmcot.h"

namespace mm::cuda {

// out = sqrt(ab_t) x0 + sqrt(1 - ab_t) noise per row of [rows, D] (x0 or noise may be null).
mm_status q_sample(const float* x0, const float* noise, const int32_t* t, const float* table, int64_t steps, int64_t rows, int64_t D, float* out);
// One generalised DDIM step per row (mm_diffusion_step); noise may be null.
mm_status diffusion_step(const float* xt, const float* eps, const float* noise, const int32_t* t, const int32_t* t_prev, const float* table,
                         int64_t steps, int64_t rows, int64_t D, double eta, double noise_scale, float* out);
// Sinusoidal embedding of t (f32, or i32 when t_is_i32) into out [rows, dim], in double.
mm_status timestep_embedding(const void* t, bool t_is_i32, int64_t rows, int64_t dim, double max_period, float* out);

}  // namespace mm::cuda
