#include "norm.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "../core/thread_pool.h"
#include "vec_math.h"

namespace mm::cpu {
namespace {

// Rows handed to one task: enough work (~16k elements) to pay for waking a thread.
int64_t row_grain(int64_t d) { return std::max<int64_t>(1, (1 << 14) / std::max<int64_t>(d, 1)); }

// Runs row_fn(row, partial) over every row, where `partial` points at `n_sums` float arrays of
// length d that the row may add into (null when n_sums is 0) (the backward's weight/bias gradients). Rows are split into
// a number of fixed ranges that depends only on the sizes, each range sums into its own partial
// arrays (no races), and the partials are then added in double, range by range: the result is
// the same for any thread count.
template <class RowFn>
void rows_with_column_sums(int64_t rows, int64_t d, int n_sums, float* const* sums, RowFn row_fn) {
  if (rows == 0) {
    for (int k = 0; k < n_sums; k++) std::fill(sums[k], sums[k] + d, 0.0f);
    return;
  }
  const int64_t ranges = std::clamp<int64_t>(rows * d / (1 << 14), 1, std::min<int64_t>(rows, 64));
  std::vector<float> partials(static_cast<size_t>(ranges * n_sums * d), 0.0f);
  parallel_for(ranges, 1, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; r++) {
      float* partial = n_sums ? partials.data() + r * n_sums * d : nullptr;
      for (int64_t row = r * rows / ranges; row < (r + 1) * rows / ranges; row++) row_fn(row, partial);
    }
  });
  if (n_sums == 0) return;
  parallel_for(d, std::max<int64_t>(1, (1 << 14) / (ranges * n_sums)), [&](int64_t begin, int64_t end) {
    std::vector<double> acc(static_cast<size_t>(end - begin));
    for (int k = 0; k < n_sums; k++) {
      std::fill(acc.begin(), acc.end(), 0.0);
      for (int64_t r = 0; r < ranges; r++) {
        const float* p = partials.data() + (r * n_sums + k) * d;
        for (int64_t i = begin; i < end; i++) acc[i - begin] += p[i];
      }
      for (int64_t i = begin; i < end; i++) sums[k][i] = static_cast<float>(acc[i - begin]);
    }
  });
}

// The weight or bias that an absent affine parameter stands for.
const float* or_constant(const float* p, int64_t d, float value, std::vector<float>& storage) {
  if (p) return p;
  storage.assign(static_cast<size_t>(d), value);
  return storage.data();
}

}  // namespace

void rms_norm(const float* x, const float* weight, int64_t rows, int64_t d, double eps, float* y, float* rstd) {
  parallel_for(rows, row_grain(d), [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; row++) {
      const float* xr = x + row * d;
      float* yr = y + row * d;
      const double mean_sq = d ? centered_sumsq_d(xr, d, 0.0) / static_cast<double>(d) : 0.0;
      const float r = static_cast<float>(1.0 / std::sqrt(mean_sq + eps));
      for (int64_t i = 0; i < d; i++) yr[i] = xr[i] * r * weight[i];
      if (rstd) rstd[row] = r;
    }
  });
}

void rms_norm_backward(const float* dy, const float* x, const float* weight, const float* rstd, int64_t rows, int64_t d, float* dx,
                       float* dweight) {
  // y = x r w with r = (mean(x^2) + eps)^-1/2, dr/dx_i = -r^3 x_i / d, so
  // dx_i = r w_i dy_i - x_i r^3 sum_j(dy_j w_j x_j) / d;  dweight_i = sum over rows of dy_i x_i r.
  float* sums[1] = {dweight};
  rows_with_column_sums(rows, d, dweight ? 1 : 0, sums, [&](int64_t row, float* partial) {
    const float* gr = dy + row * d;
    const float* xr = x + row * d;
    const float r = rstd[row];
    if (dx) {
      float lane[8] = {};
      int64_t i = 0;
      for (; i + 8 <= d; i += 8) {
        for (int j = 0; j < 8; j++) lane[j] += gr[i + j] * weight[i + j] * xr[i + j];
      }
      float dot = 0;
      for (; i < d; i++) dot += gr[i] * weight[i] * xr[i];
      for (int j = 0; j < 8; j++) dot += lane[j];
      const float c = r * r * r * dot / static_cast<float>(d);
      float* dxr = dx + row * d;
      for (i = 0; i < d; i++) dxr[i] = r * weight[i] * gr[i] - xr[i] * c;
    }
    if (partial) {
      for (int64_t i = 0; i < d; i++) partial[i] += gr[i] * xr[i] * r;
    }
  });
}

// The row's mean in double, and the f32 centre that the per-element loops subtract: x - centre
// is exact for x near the mean (Sterbenz), and the remaining m - centre is taken off after.
struct RowCentre {
  double mean;
  float centre, residual;
};
RowCentre row_centre(const float* x, int64_t d) {
  const double m = d ? sum_d(x, d) / static_cast<double>(d) : 0.0;
  const float centre = static_cast<float>(m);
  return {m, centre, static_cast<float>(m - static_cast<double>(centre))};
}

void layer_norm(const float* x, const float* weight, const float* bias, int64_t rows, int64_t d, double eps, float* y, float* rstd) {
  std::vector<float> ones, zeros;
  const float* w = or_constant(weight, d, 1.0f, ones);
  const float* b = or_constant(bias, d, 0.0f, zeros);
  parallel_for(rows, row_grain(d), [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; row++) {
      const float* xr = x + row * d;
      float* yr = y + row * d;
      // Two passes (mean, then the centred squares) in double: stable for rows far from 0.
      const RowCentre c = row_centre(xr, d);
      const double var = d ? centered_sumsq_d(xr, d, c.mean) / static_cast<double>(d) : 0.0;
      const float r = static_cast<float>(1.0 / std::sqrt(var + eps));
      for (int64_t i = 0; i < d; i++) yr[i] = ((xr[i] - c.centre) - c.residual) * r * w[i] + b[i];
      if (rstd) rstd[row] = r;
    }
  });
}

void layer_norm_backward(const float* dy, const float* x, const float* weight, const float* rstd, int64_t rows, int64_t d, float* dx,
                         float* dweight, float* dbias) {
  // xhat = (x - mean) r, g = dy w:  dx = r (g - mean(g) - xhat mean(g xhat)).
  std::vector<float> ones;
  const float* w = or_constant(weight, d, 1.0f, ones);
  float* sums[2];
  int n_sums = 0;
  const int dw_slot = dweight ? n_sums : -1;
  if (dweight) sums[n_sums++] = dweight;
  const int db_slot = dbias ? n_sums : -1;
  if (dbias) sums[n_sums++] = dbias;
  rows_with_column_sums(rows, d, n_sums, sums, [&](int64_t row, float* partial) {
    const float* gr = dy + row * d;
    const float* xr = x + row * d;
    const RowCentre c = row_centre(xr, d);  // bit-identical to the forward's
    const float r = rstd[row];
    if (dx) {
      float lane_g[8] = {}, lane_gx[8] = {};
      int64_t i = 0;
      for (; i + 8 <= d; i += 8) {
        for (int j = 0; j < 8; j++) {
          const float g = gr[i + j] * w[i + j];
          lane_g[j] += g;
          lane_gx[j] += g * (((xr[i + j] - c.centre) - c.residual) * r);
        }
      }
      float sum_g = 0, sum_gx = 0;
      for (; i < d; i++) {
        const float g = gr[i] * w[i];
        sum_g += g;
        sum_gx += g * (((xr[i] - c.centre) - c.residual) * r);
      }
      for (int j = 0; j < 8; j++) {
        sum_g += lane_g[j];
        sum_gx += lane_gx[j];
      }
      const float mean_g = sum_g / static_cast<float>(d), mean_gx = sum_gx / static_cast<float>(d);
      float* dxr = dx + row * d;
      for (i = 0; i < d; i++) dxr[i] = r * (gr[i] * w[i] - mean_g - ((xr[i] - c.centre) - c.residual) * r * mean_gx);
    }
    if (dw_slot >= 0) {
      float* pw = partial + dw_slot * d;
      for (int64_t i = 0; i < d; i++) pw[i] += gr[i] * (((xr[i] - c.centre) - c.residual) * r);
    }
    if (db_slot >= 0) {
      float* pb = partial + db_slot * d;
      for (int64_t i = 0; i < d; i++) pb[i] += gr[i];
    }
  });
}

void modulate(const float* x, const float* shift, const float* scale, int64_t groups, int64_t rows_per_group, int64_t d, float* y) {
  parallel_for(groups * rows_per_group, row_grain(d), [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; row++) {
      const float* sh = shift + (row / rows_per_group) * d;
      const float* sc = scale + (row / rows_per_group) * d;
      const float* xr = x + row * d;
      float* yr = y + row * d;
      for (int64_t i = 0; i < d; i++) yr[i] = xr[i] * (1.0f + sc[i]) + sh[i];
    }
  });
}

void modulate_backward(const float* dy, const float* x, const float* scale, int64_t groups, int64_t rows_per_group, int64_t d,
                       float* dx, float* dshift, float* dscale) {
  // Tasks are (group, column tile): each owns its columns of dshift/dscale, so the sums over the
  // group's rows need no partials, and the column loops vectorise.
  constexpr int64_t kTile = 64;
  const int64_t tiles = (d + kTile - 1) / kTile;
  const int64_t grain = std::max<int64_t>(1, (1 << 14) / (rows_per_group * kTile + 1));
  parallel_for(groups * tiles, grain, [&](int64_t begin, int64_t end) {
    double acc_shift[kTile], acc_scale[kTile];
    for (int64_t task = begin; task < end; task++) {
      const int64_t g = task / tiles, c0 = (task % tiles) * kTile, n = std::min(kTile, d - c0);
      const float* sc = scale + g * d + c0;
      std::fill(acc_shift, acc_shift + n, 0.0);
      std::fill(acc_scale, acc_scale + n, 0.0);
      for (int64_t row = g * rows_per_group; row < (g + 1) * rows_per_group; row++) {
        const float* gr = dy + row * d + c0;
        const float* xr = x + row * d + c0;
        if (dx) {
          float* dxr = dx + row * d + c0;
          for (int64_t i = 0; i < n; i++) dxr[i] = gr[i] * (1.0f + sc[i]);
        }
        for (int64_t i = 0; i < n; i++) {
          acc_shift[i] += gr[i];
          acc_scale[i] += static_cast<double>(gr[i]) * xr[i];
        }
      }
      if (dshift) for (int64_t i = 0; i < n; i++) dshift[g * d + c0 + i] = static_cast<float>(acc_shift[i]);
      if (dscale) for (int64_t i = 0; i < n; i++) dscale[g * d + c0 + i] = static_cast<float>(acc_scale[i]);
    }
  });
}

}  // namespace mm::cpu
