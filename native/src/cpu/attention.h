// CPU attention (entry points and checks: ops/attention.cc; kernels: attention_impl.inl).
#pragma once
#include "attention_kernels.h"

namespace mm::cpu {

using AttentionProblem = attention_detail::Problem;

// out [B, H, Tq, D] and lse [B, H, Tq] (log-sum-exp of each query's scaled, masked scores;
// -inf for a query that sees no key, whose output row is zeros). Returns false when scratch
// memory could not be allocated.
bool attention_forward(const AttentionProblem& p, const float* q, const float* k, const float* v, float* out, float* lse);

// Gradients of the forward above from the saved out and lse; dk/dv have k's storage shape
// [B, Hkv, kv_rows, D] (rows past Tk are zeros). Returns false when memory ran out.
bool attention_backward(const AttentionProblem& p, const float* dout, const float* q, const float* k, const float* v,
                        const float* out, const float* lse, float* dq, float* dk, float* dv);

// The kernel set in use: "avx512", "avx2" or "generic" (the best the CPU has, unless changed).
const char* attention_kernel_name();
// Picks a kernel set by name (for tests and benchmarks); false if this CPU/build lacks it.
bool set_attention_kernel(const char* name);

}  // namespace mm::cpu
