/* Losses (f32 inputs; i32 targets). Each forward has a backward that writes the input gradient
 * directly, without materialising intermediate tensors. */
#ifndef MMCOT_OPS_LOSS_H
#define MMCOT_OPS_LOSS_H
#include "../mmcot.h"
#ifdef __cplusplus
extern "C" {
#endif

typedef enum mm_reduction { MM_REDUCTION_NONE = 0, MM_REDUCTION_MEAN, MM_REDUCTION_SUM } mm_reduction;

/* Cross-entropy of each row of logits [..., V] (rows = the leading dims, N of them) against
 * targets (i32, N elements: the leading dims, or [N]), in one pass over each row (online
 * log-sum-exp). Rows whose target equals ignore_index contribute nothing. weights (f32, same
 * shape as targets, may be NULL) scale each row's loss. reduction NONE: loss has the targets'
 * shape; SUM: sum of weight * loss; MEAN: that sum divided by the sum of weights of the rows not
 * ignored (their count without weights), and 0 when that sum is 0 (all rows ignored).
 * lse receives each row's log-sum-exp (0 for ignored rows), for the backward. A target outside
 * [0, V) that is not ignore_index fails with MM_ERR_ARG naming it. */
mm_status mm_cross_entropy(const mm_tensor* logits, const mm_tensor* targets, const mm_tensor* weights, int64_t ignore_index,
                           mm_reduction reduction, mm_tensor** loss, mm_tensor** lse);
/* d loss / d logits = (softmax - onehot(target)) * weight * grad / normaliser, zero in ignored
 * rows; grad is a scalar (MEAN, SUM) or has the targets' shape (NONE). */
mm_status mm_cross_entropy_backward(const mm_tensor* logits, const mm_tensor* targets, const mm_tensor* weights, const mm_tensor* lse,
                                    const mm_tensor* grad, int64_t ignore_index, mm_reduction reduction, mm_tensor** grad_logits);

/* log p(token) under softmax(logits) for each row: logp has the tokens' shape; lse as above.
 * Every token must be in [0, V). */
mm_status mm_token_log_probs(const mm_tensor* logits, const mm_tensor* tokens, mm_tensor** logp, mm_tensor** lse);
/* d / d logits = grad * (onehot(token) - softmax). */
mm_status mm_token_log_probs_backward(const mm_tensor* logits, const mm_tensor* tokens, const mm_tensor* lse, const mm_tensor* grad,
                                      mm_tensor** grad_logits);

/* (a - b)^2 elementwise (NONE, a's shape), summed (SUM) or averaged over all elements (MEAN; 0
 * for empty inputs). a and b have the same shape. */
mm_status mm_mse_loss(const mm_tensor* a, const mm_tensor* b, mm_reduction reduction, mm_tensor** out);
/* Gradient with respect to a; the gradient with respect to b is mm_mse_loss_backward(b, a, ...). */
mm_status mm_mse_loss_backward(const mm_tensor* a, const mm_tensor* b, const mm_tensor* grad, mm_reduction reduction, mm_tensor** grad_a);

/* 1 - cos(a_i, b_i) for each row i over the last dimension, with
 * cos = a.b / (max(|a|, eps) * max(|b|, eps)). NONE: shape = the leading dims; MEAN over rows
 * (0 when there are none); SUM. */
mm_status mm_cosine_distance(const mm_tensor* a, const mm_tensor* b, double eps, mm_reduction reduction, mm_tensor** out);
/* Gradient with respect to a; with respect to b it is mm_cosine_distance_backward(b, a, ...). */
mm_status mm_cosine_distance_backward(const mm_tensor* a, const mm_tensor* b, const mm_tensor* grad, double eps, mm_reduction reduction,
                                      mm_tensor** grad_a);

#ifdef __cplusplus
}
#endif
#endif
