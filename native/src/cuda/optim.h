// CUDA kernels of the optimiser family (entry points: ops/optim.cc). Each launch covers a whole
// list of tensors: the host passes one device array of per-tensor descriptors (through
// Scratch), and every block finds its tensor and tile in it, so many small parameters cost one
// launch, not one each.
#pragma once
#include <cstdint>

#include "../cpu/optim.h"
#include "mmcot/ops/optim.h"

namespace mm::cuda {

// Same arguments as mm::cpu::adamw (the slots' pointers are device pointers on the current
// device); one fused launch for all of them.
mm_status adamw(const cpu::AdamWSlot* slots, int count, const mm_adamw_config& config);
// Sum of squares of every element in double, reduced on the device in a fixed order (tiles,
// then one block over the tiles' partial sums); the one value is copied to *out on the host (the
// only device -> host copy: the caller asked for the number).
mm_status sum_of_squares(const float* const* data, const int64_t* sizes, int count, double* out);
// data[k][i] *= factor for every tensor, one launch.
mm_status scale(float* const* data, const int64_t* sizes, int count, float factor);

}  // namespace mm::cuda
