/* Optimiser kernels: in-place updates over lists of tensors (one native call, threaded over
 * all their elements together, so many small parameters still spread over the threads). */
#ifndef MMCOT_OPS_OPTIM_H
#define MMCOT_OPS_OPTIM_H
#include "../mmcot.h"
#ifdef __cplusplus
extern "C" {
#endif

typedef struct mm_adamw_config {
  double lr, beta1, beta2, eps, weight_decay;
  int64_t step; /* 1 for the first update (bias correction uses beta^step) */
} mm_adamw_config;

/* torch.optim.AdamW (amsgrad off) on each (param, grad, exp_avg, exp_avg_sq), all f32 of one
 * shape, updated in place:
 *   param *= 1 - lr * weight_decay
 *   exp_avg = beta1 * exp_avg + (1 - beta1) * grad
 *   exp_avg_sq = beta2 * exp_avg_sq + (1 - beta2) * grad^2
 *   param -= lr / (1 - beta1^step) * exp_avg / (sqrt(exp_avg_sq) / sqrt(1 - beta2^step) + eps) */
mm_status mm_adamw_step(int count, mm_tensor* const* params, const mm_tensor* const* grads, mm_tensor* const* exp_avgs,
                        mm_tensor* const* exp_avg_sqs, const mm_adamw_config* config);

/* Sum of the squares of every element of the f32 tensors, accumulated in double in a fixed
 * order (the result does not depend on the thread count). */
mm_status mm_sum_of_squares(int count, const mm_tensor* const* tensors, double* out);
/* Multiplies every element of the f32 tensors by factor, in place. */
mm_status mm_scale_inplace(int count, mm_tensor* const* tensors, double factor);

#ifdef __cplusplus
}
#endif
#endif
