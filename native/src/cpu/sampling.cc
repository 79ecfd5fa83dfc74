#include "sampling.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <numeric>
#include <vector>

#include "../core/philox.h"
#include "../core/thread_pool.h"
#include "vec_math.h"

namespace mm::cpu {
namespace {

// Index of the pick for `target` in [0, mass): the first candidate where the running sum of
// probabilities passes target (the last candidate with nonzero probability if rounding leaves
// the sum short).
template <class Index>
int64_t inverse_cdf(const float* probs, int64_t count, Index index_of, double target) {
  double acc = 0;
  int64_t last_positive = -1;
  for (int64_t c = 0; c < count; c++) {
    const float p = probs[index_of(c)];
    if (p <= 0) continue;
    acc += p;
    last_positive = c;
    if (acc > target) return c;
  }
  return last_positive;
}

}  // namespace

RowProblem sample_tokens(const float* logits, int64_t rows, int64_t V, const SamplingConfig& cfg, int32_t* ids, int64_t* bad_row) {
  const bool greedy = cfg.temperature == 0 || cfg.top_k == 1;
  const bool top_k = cfg.top_k > 0 && cfg.top_k < V;
  const bool filtered = top_k || cfg.top_p < 1;
  const float inv_temperature = greedy ? 0.0f : static_cast<float>(std::min(1.0 / cfg.temperature, 3e38));
  // The first bad row wins, whatever thread finds it: (row, problem) packed into one integer.
  std::atomic<int64_t> first_bad{INT64_MAX};
  auto report = [&](int64_t row, RowProblem problem) {
    const int64_t code = row * 8 + static_cast<int64_t>(problem);
    int64_t seen = first_bad.load();
    while (code < seen && !first_bad.compare_exchange_weak(seen, code)) {
    }
  };
  parallel_for(rows, std::max<int64_t>(1, 8192 / V), [&](int64_t begin, int64_t end) {
    std::vector<float> probs;
    std::vector<int32_t> order;
    try {
      if (!greedy) probs.resize(static_cast<size_t>(V));
      if (!greedy && filtered) order.resize(static_cast<size_t>(V));
    } catch (...) {
      report(begin, RowProblem::kOutOfMemory);
      return;
    }
    for (int64_t i = begin; i < end; i++) {
      const float* x = logits + i * V;
      int64_t best = -1;
      float max = -INFINITY;
      bool nan = false;
      for (int64_t j = 0; j < V; j++) {
        if (x[j] != x[j]) nan = true;
        else if (x[j] > max) max = x[j], best = j;
      }
      if (nan || max == INFINITY || best < 0) {
        report(i, nan ? RowProblem::kNaN : max == INFINITY ? RowProblem::kPositiveInfinity : RowProblem::kNoFiniteLogit);
        continue;
      }
      if (greedy) {
        ids[i] = static_cast<int32_t>(best);
        continue;
      }
      const Philox4 block = philox_block(cfg.seed, cfg.offset + static_cast<uint64_t>(i / 4));
      const double u = u32_to_unit(block.v[i % 4]);
      // Unnormalised probabilities exp((x - max) / temperature), the largest exactly 1.
      float* p = probs.data();
      for (int64_t j = 0; j < V; j++) p[j] = (x[j] - max) * inv_temperature;
      exp_scaled(p, V, 0.0f, 1.0f, p);
      if (!filtered) {
        double total = 0;
        for (int64_t j = 0; j < V; j++) total += p[j];
        ids[i] = static_cast<int32_t>(inverse_cdf(p, V, [](int64_t c) { return c; }, u * total));
        continue;
      }
      // Candidates by decreasing logit (ties: lower index first); top-k keeps the first k.
      std::iota(order.begin(), order.end(), 0);
      const auto before = [x](int32_t a, int32_t b) { return x[a] > x[b] || (x[a] == x[b] && a < b); };
      int64_t keep = V;
      if (top_k) {
        keep = cfg.top_k;
        std::nth_element(order.begin(), order.begin() + keep, order.end(), before);
      }
      std::sort(order.begin(), order.begin() + keep, before);
      double mass = 0;
      for (int64_t c = 0; c < keep; c++) mass += p[order[c]];
      if (cfg.top_p < 1) {
        // Nucleus: the shortest prefix whose share of the (top-k) mass reaches top_p.
        const double needed = cfg.top_p * mass;
        double acc = 0;
        for (int64_t c = 0; c < keep; c++) {
          acc += p[order[c]];
          if (acc >= needed) {
            keep = c + 1;
            break;
          }
        }
        mass = acc;
      }
      const int64_t c = inverse_cdf(p, keep, [&](int64_t k) { return order[k]; }, u * mass);
      ids[i] = order[c];
    }
  });
  const int64_t code = first_bad.load();
  if (code == INT64_MAX) return RowProblem::kNone;
  *bad_row = code / 8;
  return static_cast<RowProblem>(code % 8);
}

}  // namespace mm::cpu
