/* Token sampling from logits [..., V] (rows = the leading dims). */
#ifndef MMCOT_OPS_SAMPLING_H
#define MMCOT_OPS_SAMPLING_H
#include "../mmcot.h"
#ifdef __cplusplus
extern "C" {
#endif

/* One token id per row (i32, shape = the leading dims).
 * temperature 0 (or top_k 1): the argmax (the lowest index among equal maxima); no randomness.
 * Otherwise softmax(logits / temperature), kept to the top_k largest (top_k 0: all), then to the
 * smallest set of the most likely tokens whose mass reaches top_p (top_p 1: all), renormalised,
 * and sampled by inverse CDF with row i's uniform u_i: element i of a Philox stream, i.e. lane
 * i % 4 of block offset + i / 4, as mm_tensor_fill_uniform draws it. The stream is (*seed, 0)
 * when seed is not NULL, else the global stream (its counters are reserved only when sampling
 * is random, so greedy decoding leaves it untouched).
 * Candidates are visited in vocabulary order when nothing is filtered, else in order of
 * decreasing probability (ties: lower index first). Logits may be -inf (never chosen); a row
 * with NaN or +inf, or with no finite logit, fails with MM_ERR_ARG naming the row. */
mm_status mm_sample_tokens(const mm_tensor* logits, double temperature, int64_t top_k, double top_p, const uint64_t* seed, mm_tensor** out);

#ifdef __cplusplus
}
#endif
#endif
