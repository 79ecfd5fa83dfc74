/* Embedding lookup: rows of an f32 table [V, D] picked by i32 ids of any shape. */
#ifndef MMCOT_OPS_EMBEDDING_H
#define MMCOT_OPS_EMBEDDING_H
#include "../mmcot.h"
#ifdef __cplusplus
extern "C" {
#endif

/* out[..., :] = table[ids[...], :], shape ids.shape + [D]. Every id must be in [0, V). */
mm_status mm_embedding(const mm_tensor* ids, const mm_tensor* table, mm_tensor** out);
/* dTable [num_rows, D]: grad rows (shape ids.shape + [D]) summed per id (repeats accumulate). */
mm_status mm_embedding_backward(const mm_tensor* ids, const mm_tensor* grad, int64_t num_rows, mm_tensor** out);

#ifdef __cplusplus
}
#endif
#endif
