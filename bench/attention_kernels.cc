// Attention kernel time without the API around it: mm::cpu::attention_forward/backward on
// buffers allocated once, so neither allocation nor the page faults of fresh output memory are
// counted (bench/attention.ts measures the public op, which includes both). Same problem as
// bench/attention.ts: causal, B4 H8 T256 D64. Prints the fastest of 200 runs per thread count.
// Build and run from the repository root:
//   g++ -std=c++17 -O3 -pthread -Inative/include bench/attention_kernels.cc native/src/cpu/attention*.cc \
//     native/src/core/thread_pool.cc native/src/core/status.cc -o build/attention_kernels && build/attention_kernels [avx512|avx2|generic]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <vector>

#include "../native/src/core/thread_pool.h"
#include "../native/src/cpu/attention.h"

int main(int argc, char** argv) {
  if (argc > 1 && !mm::cpu::set_attention_kernel(argv[1])) {
    std::fprintf(stderr, "kernel set '%s' is not available here\n", argv[1]);
    return 1;
  }
  const int64_t B = 4, H = 8, T = 256, D = 64;
  const size_t n = static_cast<size_t>(B * H * T * D);
  std::vector<float> q(n), k(n), v(n), dout(n), out(n), dq(n), dk(n), dv(n), lse(static_cast<size_t>(B * H * T));
  std::mt19937 rng(1);
  std::normal_distribution<float> normal;
  for (size_t i = 0; i < n; i++) q[i] = normal(rng), k[i] = normal(rng), v[i] = normal(rng), dout[i] = normal(rng);
  const mm::cpu::AttentionProblem p{B, H, H, T, T, D, T, true, nullptr, 0, 0.125f};
  const double fwd_gflop = 2.0 * 2 * B * H * (T * (T + 1) / 2) * D / 1e9, bwd_gflop = 2.5 * fwd_gflop;
  using clock = std::chrono::steady_clock;
  const auto ms = [](clock::time_point a, clock::time_point b) { return std::chrono::duration<double, std::milli>(b - a).count(); };
  for (int threads : {1, 2}) {
    mm::set_num_threads(threads);
    double best_fwd = 1e30, best_bwd = 1e30;
    for (int rep = 0; rep < 200; rep++) {
      const auto t0 = clock::now();
      mm::cpu::attention_forward(p, q.data(), k.data(), v.data(), out.data(), lse.data());
      const auto t1 = clock::now();
      mm::cpu::attention_backward(p, dout.data(), q.data(), k.data(), v.data(), out.data(), lse.data(), dq.data(), dk.data(), dv.data());
      const auto t2 = clock::now();
      best_fwd = std::min(best_fwd, ms(t0, t1));
      best_bwd = std::min(best_bwd, ms(t1, t2));
    }
    std::printf("%s, %d thread(s): fwd %.2f ms (%.0f GFLOP/s), bwd %.2f ms (%.0f GFLOP/s), fwd+bwd %.2f ms\n", mm::cpu::attention_kernel_name(),
                threads, best_fwd, fwd_gflop / best_fwd * 1e3, best_bwd, bwd_gflop / best_bwd * 1e3, best_fwd + best_bwd);
  }
  return 0;
}
