// Elementwise kernels from a functor (activation.cu, unary.cu): op(i, Width<4>{}) on aligned
// chunks of 4 elements when `vec` (float4 loads and stores through rowwise::load/store), then
// op(i, Width<1>{}) on the rest; one grid-stride pass.
#pragma once
#include <cstdint>

#include "rowwise.cuh"

namespace mm::cuda::pointwise {

constexpr int kThreads = 256;

template <class Op>
__global__ void pointwise_kernel(Op op, int64_t n, bool vec) {
  const int64_t chunks = vec ? n / 4 : 0;
  for (int64_t j = global_thread(); j < chunks; j += grid_stride()) op(j * 4, rowwise::Width<4>{});
  for (int64_t i = chunks * 4 + global_thread(); i < n; i += grid_stride()) op(i, rowwise::Width<1>{});
}

// `vec`: every pointer the functor touches is 16-byte aligned (rowwise::aligned).
template <class Op>
mm_status run(const char* what, const Op& op, int64_t n, bool vec) {
  if (n == 0) return MM_OK;
  return launch(what, pointwise_kernel<Op>, blocks_for(vec ? (n + 3) / 4 : n, kThreads), kThreads, 0, op, n, vec);
}

}  // namespace mm::cuda::pointwise
