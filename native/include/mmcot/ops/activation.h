/* Activation family (f32, CPU): pointwise activations, SwiGLU, softmax / log-softmax, rotary
 * position embedding and dropout. Backward outputs passed as NULL are not computed. */
#ifndef MMCOT_OPS_ACTIVATION_H
#define MMCOT_OPS_ACTIVATION_H
#include "../mmcot.h"
#ifdef __cplusplus
extern "C" {
#endif

typedef enum mm_activation_kind {
  MM_ACT_SILU = 0,  /* x * sigmoid(x) */
  MM_ACT_GELU,      /* x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2)), torch's default; Phi's lower tail is
                       computed directly, so x << 0 keeps its relative accuracy (~2e-6 for x > -5) */
  MM_ACT_GELU_TANH  /* 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), torch's approximate='tanh' */
} mm_activation_kind;

mm_status mm_activation(mm_activation_kind kind, const mm_tensor* x, mm_tensor** out);
/* dx = dy * act'(x). */
mm_status mm_activation_backward(mm_activation_kind kind, const mm_tensor* x, const mm_tensor* dy, mm_tensor** dx);

/* y = silu(gate) * up (same shapes). */
mm_status mm_swiglu(const mm_tensor* gate, const mm_tensor* up, mm_tensor** out);
mm_status mm_swiglu_backward(const mm_tensor* gate, const mm_tensor* up, const mm_tensor* dy, mm_tensor** dgate, mm_tensor** dup);

/* Softmax (log_softmax when `log` is nonzero) along `axis` (negative counts from the end),
 * with the maximum subtracted first so large inputs do not overflow. */
mm_status mm_softmax(const mm_tensor* x, int axis, int log, mm_tensor** out);
/* From the forward's output y: softmax dx = y * (dy - sum(dy * y)); log: dx = dy - exp(y) * sum(dy). */
mm_status mm_softmax_backward(const mm_tensor* y, const mm_tensor* dy, int axis, int log, mm_tensor** dx);

/* Rotary position embedding, rotate-half convention (GPT-NeoX, LLaMA in HF transformers): for
 * x [..., T, D] with D even, h = D/2, pairs (x[i], x[i+h]) for i < h are rotated by the angle
 * pos * base^(-2i/D):  y[i] = x[i] cos - x[i+h] sin,  y[i+h] = x[i+h] cos + x[i] sin.
 * positions (i32) are [T] (shared by all leading dimensions) or [B, T] with x [B, ..., T, D].
 * Angles, cos and sin are computed in double. `inverse` rotates by -angle (the backward). */
mm_status mm_rope(const mm_tensor* x, const mm_tensor* positions, double base, int inverse, mm_tensor** out);

/* y = x * mask / (1 - p), mask[i] = 0 with probability p, 0 <= p < 1. The mask of element i
 * comes from lane i%4 of Philox block offset + i/4 under key seed (a pair from mm_rng_reserve),
 * so it does not depend on the thread count, and the backward is the same call on dy. */
mm_status mm_dropout(const mm_tensor* x, double p, uint64_t seed, uint64_t offset, mm_tensor** out);

#ifdef __cplusplus
}
#endif
#endif
