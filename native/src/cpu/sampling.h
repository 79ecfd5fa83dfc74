// CPU kernel of token sampling (entry point and checks: ops/sampling.cc).
#pragma once
#include <cstdint>

namespace mm::cpu {

struct SamplingConfig {
  double temperature;  // 0: argmax
  int64_t top_k;       // 0 or >= V: no top-k filter
  double top_p;        // 1: no nucleus filter
  uint64_t seed, offset;
};

// Why a row could not be sampled (the smallest such row is reported).
enum class RowProblem { kNone = 0, kNaN, kPositiveInfinity, kNoFiniteLogit, kOutOfMemory };

// ids[i] for each row of logits [rows, V]; returns kNone, or the problem of the first bad row
// (in *bad_row).
RowProblem sample_tokens(const float* logits, int64_t rows, int64_t V, const SamplingConfig& config, int32_t* ids, int64_t* bad_row);

}  // namespace mm::cpu
