/* Normalisation family (f32, CPU): RMSNorm, LayerNorm over the last dimension, and the AdaLN
 * modulation of the diffusion head. Rows are the tensor viewed as [rows, D], D = last dim.
 * Backward outputs passed as NULL are not computed (e.g. a weight that needs no gradient). */
#ifndef MMCOT_OPS_NORM_H
#define MMCOT_OPS_NORM_H
#include "../mmcot.h"
#ifdef __cplusplus
extern "C" {
#endif

/* y = x / sqrt(mean(x^2) + eps) * weight (LLaMA). x [..., D], weight [D], eps >= 0.
 * rstd (optional, may be NULL): the per-row 1/sqrt(mean(x^2) + eps), shape x.shape[:-1]. */
mm_status mm_rms_norm(const mm_tensor* x, const mm_tensor* weight, double eps, mm_tensor** out, mm_tensor** rstd);
/* dx [..., D] and dweight [D] from dy, with x, weight and rstd as in the forward. */
mm_status mm_rms_norm_backward(const mm_tensor* dy, const mm_tensor* x, const mm_tensor* weight, const mm_tensor* rstd,
                               mm_tensor** dx, mm_tensor** dweight);

/* y = (x - mean) / sqrt(var + eps) * weight + bias, var biased (as torch). weight and bias [D]
 * are each optional (NULL). rstd (optional output): per row, shape x.shape[:-1]. The row means
 * are not saved: the backward recomputes them in double from x, exactly as the forward did (a
 * mean rounded to f32 is off by up to half an ulp of |mean|, which for rows far from 0, e.g.
 * 1e4 + noise, would be an error of 5e-4 in every normalised value). */
mm_status mm_layer_norm(const mm_tensor* x, const mm_tensor* weight, const mm_tensor* bias, double eps, mm_tensor** out,
                        mm_tensor** rstd);
/* dx, dweight, dbias from dy; weight NULL means the forward had none (a weight of ones). */
mm_status mm_layer_norm_backward(const mm_tensor* dy, const mm_tensor* x, const mm_tensor* weight, const mm_tensor* rstd,
                                 mm_tensor** dx, mm_tensor** dweight, mm_tensor** dbias);

/* AdaLN modulation: y = x * (1 + scale) + shift, where shift and scale (same shape) are [D]
 * (one condition for every row) or [B, D] with x [B, ..., D] (row r of batch b uses condition b:
 * x [N, D] with per-row conditions, or x [B, T, D] with [B, D]). */
mm_status mm_modulate(const mm_tensor* x, const mm_tensor* shift, const mm_tensor* scale, mm_tensor** out);
/* dx = dy * (1 + scale); dshift = sum of dy over each condition's rows; dscale = sum of dy * x. */
mm_status mm_modulate_backward(const mm_tensor* dy, const mm_tensor* x, const mm_tensor* scale, mm_tensor** dx,
                               mm_tensor** dshift, mm_tensor** dscale);

#ifdef __cplusplus
}
#endif
#endif
