/* Reductions over one axis of an f32 tensor (negative axes count from the end). Sums
 * accumulate in double. keepdim keeps the reduced axis with size 1; otherwise it is removed. */
#ifndef MMCOT_OPS_REDUCE_H
#define MMCOT_OPS_REDUCE_H
#include "../mmcot.h"
#ifdef __cplusplus
extern "C" {
#endif

typedef enum mm_reduce_op {
  MM_REDUCE_SUM = 0,
  MM_REDUCE_MEAN,        /* NaN over an empty axis, as 0/0 */
  MM_REDUCE_SUM_SQUARES  /* sum of x*x */
} mm_reduce_op;

mm_status mm_reduce(mm_reduce_op op, const mm_tensor* x, int axis, int keepdim, mm_tensor** out);
/* Gradient of a reduction of a tensor of shape (ndim, shape) over `axis`: grad has the reduced
 * shape (with or without the kept axis); x (the forward input) is read by SUM_SQUARES only and
 * may be NULL for the others. */
mm_status mm_reduce_backward(mm_reduce_op op, const mm_tensor* grad, const mm_tensor* x, int ndim, const int64_t* shape, int axis,
                             mm_tensor** out);
/* Maximum along `axis` and the (first) index where it occurs (i32); NaN wins over numbers.
 * The axis must not be empty. */
mm_status mm_max(const mm_tensor* x, int axis, int keepdim, mm_tensor** values, mm_tensor** indices);
/* Gradient of max: zeros of shape (ndim, shape) with grad placed at the indices mm_max gave. */
mm_status mm_max_backward(const mm_tensor* grad, const mm_tensor* indices, int ndim, const int64_t* shape, int axis, mm_tensor** out);

#ifdef __cplusplus
}
#endif
#endif
