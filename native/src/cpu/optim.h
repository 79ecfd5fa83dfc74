// CPU kernels of the optimiser family (entry points and checks: ops/optim.cc). Each works on a
// list of tensors as one index space, cut into fixed-size pieces so that many small tensors
// still spread over the threads, and so that reductions add their pieces in a fixed order.
#pragma once
#include <cstdint>

#include "mmcot/ops/optim.h"

namespace mm::cpu {

struct AdamWSlot {
  float* param;
  const float* grad;
  float* exp_avg;
  float* exp_avg_sq;
  int64_t n;
};
void adamw(const AdamWSlot* slots, int count, const mm_adamw_config& config);

double sum_of_squares(const float* const* data, const int64_t* sizes, int count);
void scale(float* const* data, const int64_t* sizes, int count, float factor);

}  // namespace mm::cpu
