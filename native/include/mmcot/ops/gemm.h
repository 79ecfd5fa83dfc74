/* Matrix products (row-major): out = alpha * op(a) @ op(b) [+ beta * out], where op
 * transposes the last two dimensions when asked. a is [..., M, K] ([..., K, M] with trans_a),
 * b is [..., K, N] ([..., N, K] with trans_b), both at least 2-D; the batch dimensions (all but
 * the last two) broadcast as in NumPy, so a [B, T, K] times weights [K, N] is one product.
 * Operands and result are all f32, or all bf16 (fp32 accumulation, the result rounded once; on
 * the CPU too, through the f32 kernels). */
#ifndef MMCOT_OPS_GEMM_H
#define MMCOT_OPS_GEMM_H
#include "../mmcot.h"
#ifdef __cplusplus
extern "C" {
#endif

/* A new tensor [...batch, M, N] = alpha * op(a) @ op(b). */
mm_status mm_matmul(const mm_tensor* a, const mm_tensor* b, int trans_a, int trans_b, float alpha, mm_tensor** out);
/* In place: c = alpha * op(a) @ op(b) + beta * c. c must have the shape mm_matmul would return
 * and must not share storage with a or b. beta == 0 ignores c's old values (even NaN). */
mm_status mm_gemm(const mm_tensor* a, const mm_tensor* b, int trans_a, int trans_b, float alpha, float beta, mm_tensor* c);

/* Kernel choice, for tests/benchmarks. CPU: "avx512", "avx2" (with FMA) or "scalar" (portable
 * C++); MM_ERR_UNSUPPORTED when this CPU lacks it. CUDA: "cublaslt" (MM_ERR_UNSUPPORTED when the
 * library was not loaded), "tiled" (fp32 SIMT; bf16 operands widened on load), "wmma" (bf16
 * tensor cores; f32 products still run "tiled"), also "tiled-small"/"tiled-large" and
 * "wmma-small"/"wmma-large" to force a tile shape. "auto" restores both defaults (the best CPU
 * set; cuBLASLt when loaded, else "tiled" for f32 and "wmma" for bf16). */
mm_status mm_gemm_set_kernel(const char* name);
/* The CPU kernel set in use: "avx512", "avx2" or "scalar". */
const char* mm_gemm_kernel(void);
/* The CUDA kernel choice: "auto", "cublaslt", "tiled", "wmma", ... ("none" without CUDA). */
const char* mm_gemm_cuda_kernel(void);

#ifdef __cplusplus
}
#endif
#endif
