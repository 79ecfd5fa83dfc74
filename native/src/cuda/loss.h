// CUDA kernels of the loss family (entry points: ops/loss.cc, which branch by hand because the
// CPU side computes its totals on the host). Device pointers; every value the CPU backend
// returns as a double (loss totals) is reduced on the device in a fixed order and written to
// the output tensor by a kernel: no host round trip, same bits on every run.
#pragma once
#include <cstdint>

#include "mmcot/ops/loss.h"

namespace mm::cuda {

// Cross-entropy (token_log_probs false) or token log-probabilities (true; no ignore index, no
// weights, reduction NONE) over logits [rows, V]: one block per row, one pass over the row
// (online log-sum-exp and the target's logit together). lse[rows] gets each row's log-sum-exp
// (0 for ignored rows); out gets the per-row values (NONE: -w * logp, or logp for token
// log-probs) or the total (SUM) / weighted mean (MEAN). A target outside [0, V) that is not
// the ignore index sets the device error flag (kTargetOutOfRange / kIndexOutOfRange) and counts
// as ignored.
mm_status cross_entropy(const float* logits, int64_t rows, int64_t V, const int32_t* targets, const float* weights, bool has_ignore,
                        int64_t ignore_index, mm_reduction reduction, bool token_log_probs, float* lse, float* out);
// grad_logits = row_scale * (softmax - onehot) in one fused pass per row, with row_scale =
// upstream gradient * weight (/ kept weight for MEAN; computed on the device), and -grad for
// token log-probs.
mm_status cross_entropy_backward(const float* logits, int64_t rows, int64_t V, const int32_t* targets, const float* weights, bool has_ignore,
                                 int64_t ignore_index, mm_reduction reduction, bool token_log_probs, const float* lse, const float* grad,
                                 float* grad_logits);

// (a - b)^2 elementwise (NONE) or its sum / mean in double (two-stage fixed-order reduction).
mm_status mse_loss(const float* a, const float* b, int64_t n, mm_reduction reduction, float* out);
// 2 (a - b) times the upstream gradient (per element for NONE; grad[0] (/ n) otherwise, read on
// the device).
mm_status mse_loss_backward(const float* a, const float* b, int64_t n, mm_reduction reduction, const float* grad, float* grad_a);

// 1 - cos(a_i, b_i) per row of [rows, D] with clamped norms (double sums, one block per row),
// per row (NONE) or summed / averaged over rows.
mm_status cosine_distance(const float* a, const float* b, int64_t rows, int64_t D, double eps, mm_reduction reduction, float* out);
mm_status cosine_distance_backward(const float* a, const float* b, int64_t rows, int64_t D, double eps, mm_reduction reduction, const float* grad,
                                   float* grad_a);

}  // namespace mm::cuda
