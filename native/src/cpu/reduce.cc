#include "reduce.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "../core/thread_pool.h"

namespace mm::cpu {
namespace {

constexpr int64_t kGrain = 1 << 14;      // elements per parallel chunk (at least)
constexpr int64_t kRunBlock = 1 << 16;   // contiguous run summed as one unit (inner == 1)
constexpr int64_t kCols = 256;           // columns accumulated at once in a stack buffer (inner > 1)
constexpr int64_t kMinUnits = 64;        // below this many (outer, column block) units, also split n

inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Sum of a contiguous run in double with 8 independent accumulators (a short dependency chain
// the compiler can keep in vector registers).
template <bool kSquares>
double sum_run(const float* p, int64_t n) {
  double acc[8] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int k = 0; k < 8; k++) {
      const double v = p[i + k];
      acc[k] += kSquares ? v * v : v;
    }
  }
  double tail = 0;
  for (; i < n; i++) {
    const double v = p[i];
    tail += kSquares ? v * v : v;
  }
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7])) + tail;
}

// Reduced axis contiguous (inner == 1): each output sums one row, long rows in fixed blocks.
template <bool kSquares>
void sum_rows(const float* x, int64_t outer, int64_t n, double scale, float* out) {
  const int64_t blocks = std::max<int64_t>(1, ceil_div(n, kRunBlock));
  if (blocks == 1) {
    parallel_for(outer, kGrain / (n + 1) + 1, [&](int64_t begin, int64_t end) {
      for (int64_t o = begin; o < end; o++) out[o] = static_cast<float>(sum_run<kSquares>(x + o * n, n) * scale);
    });
    return;
  }
  std::vector<double> partial(static_cast<size_t>(outer * blocks));
  parallel_for(outer * blocks, 1, [&](int64_t begin, int64_t end) {
    for (int64_t u = begin; u < end; u++) {
      const int64_t o = u / blocks, start = (u % blocks) * kRunBlock;
      partial[u] = sum_run<kSquares>(x + o * n + start, std::min(kRunBlock, n - start));
    }
  });
  for (int64_t o = 0; o < outer; o++) {
    double s = 0;
    for (int64_t b = 0; b < blocks; b++) s += partial[o * blocks + b];
    out[o] = static_cast<float>(s * scale);
  }
}

// Sums rows [j0, j1) of columns [c0, c0 + m) of one outer slice into acc (contiguous inner
// loops). Groups of kGroup rows add up in float first (like the base case of a pairwise sum), so
// only one row in kGroup pays the conversion to double.
template <bool kSquares>
void add_rows(const float* slice, int64_t inner, int64_t j0, int64_t j1, int64_t c0, int64_t m, double* acc) {
  constexpr int64_t kGroup = 8;
  float group[kCols];
  std::fill(acc, acc + m, 0.0);
  for (int64_t g0 = j0; g0 < j1; g0 += kGroup) {
    const int64_t g1 = std::min(j1, g0 + kGroup);
    std::fill(group, group + m, 0.0f);
    for (int64_t j = g0; j < g1; j++) {
      const float* row = slice + j * inner + c0;
      for (int64_t c = 0; c < m; c++) group[c] += kSquares ? row[c] * row[c] : row[c];
    }
    for (int64_t c = 0; c < m; c++) acc[c] += group[c];
  }
}

// Reduced axis strided (inner > 1): units of (outer, column block), and when those are few (a
// bias gradient: [B*T, D] over axis 0), also blocks of the reduced axis summed in a second pass.
template <bool kSquares>
void sum_strided(const float* x, int64_t outer, int64_t n, int64_t inner, double scale, float* out) {
  const int64_t col_blocks = ceil_div(inner, kCols);
  const int64_t base_units = outer * col_blocks;
  const int64_t n_blocks = std::max<int64_t>(1, std::min(ceil_div(kMinUnits, base_units), ceil_div(n, 256)));
  const int64_t rows_per = std::max<int64_t>(1, ceil_div(n, n_blocks));
  std::vector<double> partial(n_blocks > 1 ? static_cast<size_t>(outer * n_blocks * inner) : 0);
  const int64_t grain = std::max<int64_t>(1, kGrain / (std::min(n, rows_per) * std::min(inner, kCols) + 1));
  parallel_for(base_units * n_blocks, grain, [&](int64_t begin, int64_t end) {
    double acc[kCols];
    for (int64_t u = begin; u < end; u++) {
      const int64_t nb = u % n_blocks, cb = (u / n_blocks) % col_blocks, o = u / (n_blocks * col_blocks);
      const int64_t c0 = cb * kCols, m = std::min(kCols, inner - c0);
      const int64_t j0 = std::min(n, nb * rows_per), j1 = std::min(n, j0 + rows_per);
      add_rows<kSquares>(x + o * n * inner, inner, j0, j1, c0, m, acc);
      if (n_blocks == 1) {
        for (int64_t c = 0; c < m; c++) out[o * inner + c0 + c] = static_cast<float>(acc[c] * scale);
      } else {
        std::memcpy(partial.data() + (o * n_blocks + nb) * inner + c0, acc, m * sizeof(double));
      }
    }
  });
  if (n_blocks == 1) return;
  parallel_for(outer * inner, kGrain, [&](int64_t begin, int64_t end) {
    for (int64_t k = begin; k < end; k++) {
      const int64_t o = k / inner, i = k % inner;
      double s = 0;
      for (int64_t nb = 0; nb < n_blocks; nb++) s += partial[(o * n_blocks + nb) * inner + i];
      out[k] = static_cast<float>(s * scale);
    }
  });
}

// v replaces the current best: larger, or the first NaN.
inline bool beats(float v, float best) { return v > best || (v != v && best == best); }

// Running maximum and its first row index, per column, over rows [0, rows) of the first m
// columns of a block with row stride `stride`. Branch-free so the column loop vectorises; kept
// out of line so a constant m does not get the loop unrolled (which then fails to vectorise).
__attribute__((noinline)) void column_max(const float* block, int64_t rows, int64_t stride, int64_t m, float* best, int32_t* at) {
  for (int64_t c = 0; c < m; c++) {
    best[c] = block[c];
    at[c] = 0;
  }
  for (int64_t j = 1; j < rows; j++) {
    const float* row = block + j * stride;
    const int32_t jj = static_cast<int32_t>(j);
    for (int64_t c = 0; c < m; c++) {
      const bool b = beats(row[c], best[c]);
      best[c] = b ? row[c] : best[c];
      at[c] = b ? jj : at[c];
    }
  }
}

}  // namespace

void reduce_sum(const float* x, int64_t outer, int64_t n, int64_t inner, bool squares, double scale, float* out) {
  if (outer * inner == 0) return;
  if (inner == 1) return squares ? sum_rows<true>(x, outer, n, scale, out) : sum_rows<false>(x, outer, n, scale, out);
  return squares ? sum_strided<true>(x, outer, n, inner, scale, out) : sum_strided<false>(x, outer, n, inner, scale, out);
}

void reduce_max(const float* x, int64_t outer, int64_t n, int64_t inner, float* values, int32_t* indices) {
  if (outer * inner == 0) return;
  if (inner == 1) {
    // A contiguous row read as [n / kLanes, kLanes] columns: the column maxima vectorise, then
    // the lanes merge preferring the lower index, then the tail follows in order.
    constexpr int64_t kLanes = 16;
    parallel_for(outer, kGrain / (n + 1) + 1, [&](int64_t begin, int64_t end) {
      float best[kLanes];
      int32_t at[kLanes];
      for (int64_t o = begin; o < end; o++) {
        const float* row = x + o * n;
        const int64_t blocks = n / kLanes;
        float v = row[0];
        int64_t a = 0, next = 1;
        if (blocks >= 2) {
          column_max(row, blocks, kLanes, kLanes, best, at);
          for (int64_t c = 0; c < kLanes; c++) {
            const int64_t i = at[c] * kLanes + c;
            const bool tie = best[c] == v || (best[c] != best[c] && v != v);
            if (beats(best[c], v) || (tie && i < a)) {
              v = best[c];
              a = i;
            }
          }
          next = blocks * kLanes;
        }
        for (int64_t i = next; i < n; i++) {
          if (beats(row[i], v)) {
            v = row[i];
            a = i;
          }
        }
        values[o] = v;
        indices[o] = static_cast<int32_t>(a);
      }
    });
    return;
  }
  const int64_t col_blocks = ceil_div(inner, kCols);
  parallel_for(outer * col_blocks, std::max<int64_t>(1, kGrain / (n * std::min(inner, kCols))), [&](int64_t begin, int64_t end) {
    float best[kCols];
    int32_t at[kCols];
    for (int64_t u = begin; u < end; u++) {
      const int64_t o = u / col_blocks, c0 = (u % col_blocks) * kCols, m = std::min(kCols, inner - c0);
      column_max(x + o * n * inner + c0, n, inner, m, best, at);
      std::memcpy(values + o * inner + c0, best, m * sizeof(float));
      std::memcpy(indices + o * inner + c0, at, m * sizeof(int32_t));
    }
  });
}

void reduce_sum_backward(const float* g, const float* x, int64_t outer, int64_t n, int64_t inner, float scale, float* dx) {
  parallel_for(outer * n, kGrain / (inner + 1) + 1, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; row++) {
      const float* gr = g + (row / n) * inner;
      float* out = dx + row * inner;
      if (x) {
        const float* xr = x + row * inner;
        for (int64_t i = 0; i < inner; i++) out[i] = 2.0f * scale * gr[i] * xr[i];
      } else {
        for (int64_t i = 0; i < inner; i++) out[i] = scale * gr[i];
      }
    }
  });
}

void reduce_max_backward(const float* g, const int32_t* indices, int64_t outer, int64_t n, int64_t inner, float* dx) {
  parallel_for(outer, kGrain / (n * inner + 1) + 1, [&](int64_t begin, int64_t end) {
    for (int64_t o = begin; o < end; o++) {
      float* slice = dx + o * n * inner;
      std::fill(slice, slice + n * inner, 0.0f);
      for (int64_t i = 0; i < inner; i++) slice[indices[o * inner + i] * inner + i] = g[o * inner + i];
    }
  });
}

}  // namespace mm::cpu
