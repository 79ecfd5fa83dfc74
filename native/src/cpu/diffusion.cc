#include "diffusion.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "../core/thread_pool.h"

namespace mm::cpu {

void row_combination(const RowTerm* terms, int count, int64_t rows, int64_t D, float* out) {
  parallel_for(rows, std::max<int64_t>(1, 16384 / std::max<int64_t>(1, D)), [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; i++) {
      float* o = out + i * D;
      const float c0 = static_cast<float>(terms[0].coef[i]);
      const float* x0 = terms[0].x + i * D;
      if (count == 1) {
        for (int64_t j = 0; j < D; j++) o[j] = c0 * x0[j];
      } else if (count == 2) {
        const float c1 = static_cast<float>(terms[1].coef[i]);
        const float* x1 = terms[1].x + i * D;
        for (int64_t j = 0; j < D; j++) o[j] = c0 * x0[j] + c1 * x1[j];
      } else {
        const float c1 = static_cast<float>(terms[1].coef[i]), c2 = static_cast<float>(terms[2].coef[i]);
        const float* x1 = terms[1].x + i * D;
        const float* x2 = terms[2].x + i * D;
        for (int64_t j = 0; j < D; j++) o[j] = c0 * x0[j] + c1 * x1[j] + c2 * x2[j];
      }
    }
  });
}

void timestep_embedding(const double* t, int64_t rows, int64_t dim, double max_period, float* out) {
  const int64_t half = dim / 2;
  std::vector<double> freq(static_cast<size_t>(half));
  for (int64_t k = 0; k < half; k++) freq[k] = std::exp(-std::log(max_period) * static_cast<double>(k) / static_cast<double>(half));
  parallel_for(rows, std::max<int64_t>(1, 4096 / std::max<int64_t>(1, dim)), [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; i++) {
      float* o = out + i * dim;
      for (int64_t k = 0; k < half; k++) {
        const double angle = t[i] * freq[k];
        o[k] = static_cast<float>(std::cos(angle));
        o[half + k] = static_cast<float>(std::sin(angle));
      }
      if (dim % 2) o[dim - 1] = 0.0f;
    }
  });
}

}  // namespace mm::cpu
