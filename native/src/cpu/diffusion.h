// CPU kernels of the diffusion family (entry points and checks: ops/diffusion.cc).
#pragma once
#include <cstdint>

namespace mm::cpu {

// One operand of a per-row linear combination: x [rows, D] scaled by coef[row].
struct RowTerm {
  const float* x;
  const double* coef;
};
// out[i, :] = sum over terms of coef[i] * x[i, :] (1 to 3 terms).
void row_combination(const RowTerm* terms, int count, int64_t rows, int64_t D, float* out);

// Sinusoidal embedding of t[i] (as double) into out[i, 0:dim]: [cos(t f_k), sin(t f_k)] for
// k < dim / 2 with f_k = max_period^(-k / (dim / 2)), a zero last column when dim is odd.
void timestep_embedding(const double* t, int64_t rows, int64_t dim, double max_period, float* out);

}  // namespace mm::cpu
