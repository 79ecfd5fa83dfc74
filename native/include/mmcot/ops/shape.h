/* Shape ops: copies into new contiguous tensors. They move bytes only, so they take any dtype
 * (f32, i32, bf16); inputs of one call must share it. Axes may be negative (counted from the
 * end, as in Python). */
#ifndef MMCOT_OPS_SHAPE_H
#define MMCOT_OPS_SHAPE_H
#include "../mmcot.h"
#ifdef __cplusplus
extern "C" {
#endif

/* out.shape[i] = x.shape[dims[i]]; dims (ndim entries, = x's ndim) is a permutation of
 * 0..ndim-1. A transpose is the permutation that swaps two axes. */
mm_status mm_permute(const mm_tensor* x, int ndim, const int* dims, mm_tensor** out);
/* Joins `count` >= 1 tensors along `axis`; every other dimension must match. */
mm_status mm_concat(int count, const mm_tensor* const* tensors, int axis, mm_tensor** out);
/* x[start:end] along `axis`. Negative start/end count from the end; after that
 * 0 <= start <= end <= size must hold (out-of-range bounds are an error, not clamped). */
mm_status mm_slice(const mm_tensor* x, int axis, int64_t start, int64_t end, mm_tensor** out);
/* In place: dst[..., start:start+n, ...] = src along `axis`, where n is src's size there; every
 * other dimension and the dtype must match, and the window must fit (KV caches fill buffers
 * allocated once this way). Not differentiable. */
mm_status mm_slice_assign(mm_tensor* dst, const mm_tensor* src, int axis, int64_t start);
/* x with `before` and `after` (>= 0) elements equal to `value` added along `axis`
 * (with value 0, the backward of slice). */
mm_status mm_pad(const mm_tensor* x, int axis, int64_t before, int64_t after, double value, mm_tensor** out);
/* out = x indexed along `axis` by 1-D i32 `indices` (each in [0, size)); out's size along axis
 * is the number of indices. */
mm_status mm_index_select(const mm_tensor* x, int axis, const mm_tensor* indices, mm_tensor** out);
/* Backward of index_select (f32): a tensor shaped like grad but with `size` along `axis`,
 * zero except that grad's slice j is added at indices[j] (repeated indices accumulate). */
mm_status mm_index_select_backward(const mm_tensor* grad, int axis, const mm_tensor* indices, int64_t size, mm_tensor** out);

#ifdef __cplusplus
}
#endif
#endif
