// CUDA kernels of the activation family; same arguments as mm::cpu:: (cpu/activation.h), device
// pointers, returning a status (entry points: ops/activation.cc via MM_DISPATCH). Outputs passed
// as null are not computed.
#pragma once
#include <cstdint>

#include "mmcot/ops/activation.h"

namespace mm::cuda {

mm_status activation(mm_activation_kind kind, const float* x, int64_t n, float* y);
mm_status activation_backward(mm_activation_kind kind, const float* x, const float* dy, int64_t n, float* dx);

mm_status swiglu(const float* gate, const float* up, int64_t n, float* y);
mm_status swiglu_backward(const float* gate, const float* up, const float* dy, int64_t n, float* dgate, float* dup);

// The tensor seen as [outer, len, inner]; the softmax runs along len.
mm_status softmax(const float* x, int64_t outer, int64_t len, int64_t inner, bool log, float* y);
mm_status softmax_backward(const float* y, const float* dy, int64_t outer, int64_t len, int64_t inner, bool log, float* dx);

// positions (device, i32) are [t] (per_batch false) or [batches, t] (per_batch true).
mm_status rope(const float* x, const int32_t* positions, bool per_batch, int64_t batches, int64_t rows_per_batch, int64_t t, int64_t d,
               double base, bool inverse, float* y);

// The same element -> (Philox block, lane) mapping as the CPU: identical masks for a (seed, offset).
mm_status dropout(const float* x, int64_t n, double p, uint64_t seed, uint64_t offset, float* y);

}  // namespace mm::cuda
