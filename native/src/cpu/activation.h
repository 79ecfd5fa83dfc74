// CPU kernels of the activation family (entry points and checks: ops/activation.cc). Outputs
// passed as null are not computed.
#pragma once
#include <cstdint>

#include "mmcot/ops/activation.h"

namespace mm::cpu {

void activation(mm_activation_kind kind, const float* x, int64_t n, float* y);
void activation_backward(mm_activation_kind kind, const float* x, const float* dy, int64_t n, float* dx);

void swiglu(const float* gate, const float* up, int64_t n, float* y);
void swiglu_backward(const float* gate, const float* up, const float* dy, int64_t n, float* dgate, float* dup);

// The tensor seen as [outer, len, inner]; the softmax runs along len.
void softmax(const float* x, int64_t outer, int64_t len, int64_t inner, bool log, float* y);
void softmax_backward(const float* y, const float* dy, int64_t outer, int64_t len, int64_t inner, bool log, float* dx);

// x seen as [batches, rows_per_batch, d] where row r of a batch is at time step r % t; positions
// are [t] (batches == 1 or shared: per_batch false) or [batches, t] (per_batch true).
void rope(const float* x, const int32_t* positions, bool per_batch, int64_t batches, int64_t rows_per_batch, int64_t t, int64_t d,
          double base, bool inverse, float* y);

void dropout(const float* x, int64_t n, double p, uint64_t seed, uint64_t offset, float* y);

}  // namespace mm::cpu
