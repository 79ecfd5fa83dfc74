/* Fused scaled-dot-product attention: softmax(q k^T * scale + mask) v, computed block by block
 * with an online softmax, so no [Tq, Tk] score matrix is ever stored. q, k, v are f32, or all
 * bf16 (f32 accumulation; out and the gradients bf16, lse f32) on the CPU and on CUDA.
 *
 * Shapes: q [B, H, Tq, D]; k, v [B, Hkv, Tkv, D] with H % Hkv == 0 (grouped-query attention:
 * query head h uses kv head h / (H / Hkv); Hkv == 1 is multi-query attention). The first Tk
 * rows of each kv head are used: Tk = kv_length, or all Tkv rows when kv_length is 0 (a KV cache
 * can be allocated once at its full size and filled as decoding goes).
 *
 * Masks: causal lets query i see keys j <= i + (Tk - Tq), i.e. the queries are the last Tq
 * positions of the Tk keys; with Tq = 1 this is one decoding step against a cache (the same op
 * serves prefill and decode; few query rows take a kernel vectorised over D). An explicit mask
 * is additive f32 [Tq, Tk] or [B, Tq, Tk] (0 keeps a key, -inf drops it; other values are added
 * to the scores as a bias); it combines with causal.
 *
 * A query that sees no key at all (fully masked row) gets a zero output row and lse = -inf, and
 * passes no gradient. */
#ifndef MMCOT_OPS_ATTENTION_H
#define MMCOT_OPS_ATTENTION_H
#include "../mmcot.h"
#ifdef __cplusplus
extern "C" {
#endif

typedef struct mm_attention_options {
  int causal;            /* nonzero: query i sees keys j <= i + (Tk - Tq); needs Tq <= Tk */
  const mm_tensor* mask; /* optional additive f32 [Tq, Tk] or [B, Tq, Tk]; NULL for none */
  float scale;           /* multiplies q.k (finite); usually 1/sqrt(D) */
  int64_t kv_length;     /* keys used per kv head (1..Tkv), or 0 for all */
} mm_attention_options;

/* out [B, H, Tq, D]; lse [B, H, Tq]: log-sum-exp of each query's scaled, masked scores (what
 * the backward needs). */
mm_status mm_attention_forward(const mm_tensor* q, const mm_tensor* k, const mm_tensor* v, const mm_attention_options* options,
                               mm_tensor** out, mm_tensor** lse);

/* Gradients from the forward's saved out and lse, recomputing the probabilities block by block.
 * dq is shaped like q; dk, dv like k (rows past kv_length are zeros). */
mm_status mm_attention_backward(const mm_tensor* dout, const mm_tensor* q, const mm_tensor* k, const mm_tensor* v,
                                const mm_tensor* out, const mm_tensor* lse, const mm_attention_options* options, mm_tensor** dq,
                                mm_tensor** dk, mm_tensor** dv);

/* The CPU kernel set in use ("avx512", "avx2" or "generic"). */
const char* mm_attention_kernel(void);
/* Chooses the CPU kernel set: one of the names above or "best" (tests and benchmarks compare
 * them); or the CUDA variant: "auto" (default), "flash" (tiled, head dims up to 256), "rowwise"
 * (a warp per row, any head dim) or "wmma" (bf16 forward on tensor cores, head dims a multiple
 * of 16). MM_ERR_UNSUPPORTED when this CPU or build lacks it. */
mm_status mm_attention_set_kernel(const char* name);

#ifdef __cplusplus
}
#endif
#endif
