// CUDA kernel of token sampling (entry point: ops/sampling.cc). Same configuration and random
// stream as the CPU kernel (cpu/sampling.h): row i draws lane i % 4 of Philox block
// offset + i / 4, and the probabilities are computed with the CPU's exp, so the same seed picks
// the same tokens on both backends.
#pragma once
#include <cstdint>

#include "../cpu/sampling.h"
#include "mmcot/mmcot.h"

namespace mm::cuda {

// ids[i] for each row of logits [rows, V]. A row with NaN, +inf or no finite logit sets the
// device error flag (kSampleNaN / kSamplePositiveInfinity / kSampleNoFiniteLogit) and gets id 0.
mm_status sample_tokens(const float* logits, int64_t rows, int64_t V, const cpu::SamplingConfig& config, int32_t* ids);

}  // namespace mm::cuda
