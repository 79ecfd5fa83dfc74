// CUDA GEMM (entry points and checks: ops/gemm.cc). Row-major, like cpu/gemm.h:
//   C[i] = alpha * op(A[i]) @ op(B[i]) + beta * C[i]   for i in [0, batch)
// with A, B and C all f32, or all bf16 (fp32 accumulation, the result rounded once). C[i] lies at
// c + i * M * N; A[i] and B[i] lie at the matrix offsets the batch index gives for item i (a
// broadcast operand repeats its matrices). beta == 0 never reads C (it may hold NaN).
//
// Kernels: cuBLASLt when the library is found at run time (gemm_cublaslt.cu; never in the
// emulator), else our own: "tiled" (fp32 SIMT, shared-memory tiles with register blocking; bf16
// operands are widened on load) and "wmma" (bf16 tensor cores, m16n16k16; f32 operands go to
// "tiled", since TF32 would change the fp32 results).
#pragma once
#include <cstdint>

#include "../core/batch_index.h"
#include "mmcot/mmcot.h"

namespace mm::cuda {

using GemmBatchIndex = mm::GemmBatchIndex;  // core/batch_index.h

struct GemmArgs {
  mm_dtype dtype = MM_F32;  // of A, B and C: MM_F32 or MM_BF16
  bool trans_a = false, trans_b = false;
  int64_t m = 0, n = 0, k = 0;
  float alpha = 1.0f, beta = 0.0f;
  const void* a = nullptr;  // device pointers
  const void* b = nullptr;
  void* c = nullptr;
  int64_t batch = 1;
  GemmBatchIndex index;  // with ndim == 0 and batch > 1: A[i] at i * M * K, B[i] at i * K * N
};

// Never synchronises. C must not overlap A or B.
mm_status gemm(const GemmArgs& args);

// The kernel choice for CUDA tensors: "auto" (cuBLASLt when loaded, else "tiled" for f32 and
// "wmma" for bf16), "cublaslt", "tiled" or "wmma". MM_ERR_UNSUPPORTED for "cublaslt" when the
// library is not loaded (absent, MMCOT_DISABLE_CUBLASLT=1, or the emulator); MM_ERR_ARG for
// other names.
mm_status set_gemm_kernel(const char* name);
const char* gemm_kernel_name();
bool is_gemm_kernel_name(const char* name);

// cuBLASLt (gemm_cublaslt.cu): whether it is loaded (the first call tries to dlopen it), why
// not, and the product through it (MM_ERR_UNSUPPORTED when it has no algorithm for the case).
bool cublaslt_available();
const char* cublaslt_reason();
mm_status cublaslt_gemm(const GemmArgs& args);

}  // namespace mm::cuda
