// CUDA attention (entry points and checks: ops/attention.cc; kernels: attention_forward.cu,
// attention_backward.cu). Same problem description as the CPU (cpu/attention_kernels.h); the
// tensors are device pointers of `dtype` (f32, or bf16 with f32 accumulation) except lse, which
// is always f32, and the mask, which is f32.
#pragma once
#include "../cpu/attention_kernels.h"
#include "mmcot/mmcot.h"

namespace mm::cuda {

using AttentionProblem = cpu::attention_detail::Problem;

// out [B, H, Tq, D] (dtype) and lse [B, H, Tq] (f32); see cpu::attention_forward.
mm_status attention_forward(const AttentionProblem& p, mm_dtype dtype, const void* q, const void* k, const void* v, void* out,
                            float* lse);

// dq like q, dk/dv like k ([B, Hkv, kv_rows, D]; rows past Tk are zeros), all of `dtype`.
mm_status attention_backward(const AttentionProblem& p, mm_dtype dtype, const void* dout, const void* q, const void* k,
                             const void* v, const void* out, const float* lse, void* dq, void* dk, void* dv);

// The CUDA kernel variant in use: "auto" (the default: the forward of bf16 on tensor cores when
// the head dim is a multiple of 16 and there are more than 16 query rows per kv head, else
// "flash" for head dims up to 256 and "rowwise" above), "flash" (tiled SIMT f32: query/key tiles
// in shared memory, head dim up to 256, larger ones fall back to "rowwise"), "rowwise" (one warp
// per query row / key row, any head dim) or "wmma" (the tensor-core forward for bf16 wherever
// the head dim allows, else as "auto"). The backward is "flash" or "rowwise" for every dtype.
const char* attention_kernel_name();
// Picks a variant by name; false when `name` is not one of them.
bool set_attention_kernel(const char* name);

}  // namespace mm::cuda
