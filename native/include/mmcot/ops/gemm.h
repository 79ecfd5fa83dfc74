/* Matrix products (f32, row-major): out = alpha * op(a) @ op(b) [+ beta * out], where op
 * transposes the last two dimensions when asked. a is [..., M, K] ([..., K, M] with trans_a),
 * b is [..., K, N] ([..., N, K] with trans_b), both at least 2-D; the batch dimensions (all but
 * the last two) broadcast as in NumPy, so a [B, T, K] times weights [K, N] is one product. */
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

/* The CPU kernel set: "auto" (the best this CPU runs: the default), "avx512", "avx2" (with FMA)
 * or "scalar" (portable C++); MM_ERR_UNSUPPORTED when this CPU lacks it. For tests/benchmarks. */
mm_status mm_gemm_set_kernel(const char* name);
/* The kernel set in use: "avx512", "avx2" or "scalar". */
const char* mm_gemm_kernel(void);

#ifdef __cplusplus
}
#endif
#endif
