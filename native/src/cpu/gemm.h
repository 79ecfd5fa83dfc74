// CPU GEMM (entry points and checks: ops/gemm.cc). Row-major f32:
//   C[i] = alpha * op(A[i]) @ op(B[i]) + beta * C[i]   for i in [0, batch)
// op(A) is M x K (A stored M x K, or K x M when trans_a), op(B) is K x N (B stored K x N, or
// N x K when trans_b), C[i] is M x N and lies at c + i * M * N. Batch broadcasting is expressed
// by the per-item element offsets of A and B (an offset repeats for a broadcast operand).
//
// Results are identical for any thread count: threads split C into row or column ranges and
// every element sums over K in the same order, with the same kernel.
#pragma once
#include <cstdint>

namespace mm::cpu {

struct GemmArgs {
  bool trans_a = false, trans_b = false;
  int64_t m = 0, n = 0, k = 0;
  float alpha = 1.0f, beta = 0.0f;  // beta == 0: C is not read (it may hold garbage or NaN)
  const float* a = nullptr;
  const float* b = nullptr;
  float* c = nullptr;
  int64_t batch = 1;
  const int64_t* a_offsets = nullptr;  // batch entries, or nullptr for all 0
  const int64_t* b_offsets = nullptr;
};

// Never throws. C must not overlap A or B.
void gemm(const GemmArgs& args);

// Kernel sets: "avx512", "avx2" (with FMA) and "scalar" (portable C++). The default is the best
// one this CPU supports, picked at run time; select_gemm_kernel returns false when `name` is
// unknown or the CPU lacks it ("auto" restores the default).
bool select_gemm_kernel(const char* name);
const char* gemm_kernel_name();

}  // namespace mm::cpu
