/* Elementwise ops with NumPy broadcasting (f32). */
#ifndef MMCOT_OPS_ELEMENTWISE_H
#define MMCOT_OPS_ELEMENTWISE_H
#include "../mmcot.h"
#ifdef __cplusplus
extern "C" {
#endif

typedef enum mm_binary_op { MM_BINARY_ADD = 0, MM_BINARY_SUB, MM_BINARY_MUL, MM_BINARY_DIV } mm_binary_op;

/* out = a (op) b, shapes broadcast as in NumPy. */
mm_status mm_binary(mm_binary_op op, const mm_tensor* a, const mm_tensor* b, mm_tensor** out);
/* Sums t down to `shape`, which t's shape broadcasts from (the backward of broadcasting). */
mm_status mm_sum_to(const mm_tensor* t, int ndim, const int64_t* shape, mm_tensor** out);

#ifdef __cplusplus
}
#endif
#endif
