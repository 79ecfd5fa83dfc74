// Diffusion family: argument checks, per-row coefficients (double), dispatch (kernels:
// cpu/diffusion.cc).
#include "mmcot/ops/diffusion.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "../cpu/diffusion.h"
#include "check.h"
#include "dispatch.h"
#include "tensor_util.h"
#if MM_WITH_CUDA
#include "../cuda/diffusion.h"
#endif

namespace {

using mm::f32;
using mm::i32;

// The schedule table [2, T]: alpha_bar_t = row 0 + row 1 (a double split in two floats).
mm_status check_table(const char* op, const mm_tensor* like, const mm_tensor* table, int64_t* steps) {
  MM_TRY(mm::check_dtype(op, "table", table, MM_F32));
  MM_TRY(mm::check_same_device(op, "x", like, "table", table));
  if (mm_tensor_ndim(table) != 2 || mm_tensor_shape(table)[0] != 2 || mm_tensor_shape(table)[1] < 1) {
    char buf[256];
    return mm::fail(MM_ERR_SHAPE, "%s: 'table' must have shape [2, T] with T >= 1 (alpha_bar as hi and lo floats), got %s", op,
                    mm::format_shape(buf, sizeof buf, mm_tensor_ndim(table), mm_tensor_shape(table)));
  }
  *steps = mm_tensor_shape(table)[1];
  return MM_OK;
}

// t (i32) holds one timestep per row of x: x's shape is t's shape plus trailing dims.
mm_status check_rows(const char* op, const char* x_name, const mm_tensor* x, const char* t_name, const mm_tensor* t, int64_t* rows, int64_t* D) {
  MM_TRY(mm::check_dtype(op, t_name, t, MM_I32));
  MM_TRY(mm::check_same_device(op, x_name, x, t_name, t));
  const int tn = mm_tensor_ndim(t), xn = mm_tensor_ndim(x);
  bool prefix = xn > tn;
  for (int i = 0; prefix && i < tn; i++) prefix = mm_tensor_shape(t)[i] == mm_tensor_shape(x)[i];
  if (!prefix) {
    char a[256], b[256];
    return mm::fail(MM_ERR_SHAPE, "%s: '%s' has shape %s, so '%s' (shape %s) must have one timestep per row: its shape must be the leading dims of '%s'", op,
                    t_name, mm::format_shape(a, sizeof a, tn, mm_tensor_shape(t)), x_name, mm::format_shape(b, sizeof b, xn, mm_tensor_shape(x)), x_name);
  }
  *rows = mm_tensor_numel(t);
  *D = 1;
  for (int i = tn; i < xn; i++) *D *= mm_tensor_shape(x)[i];
  return MM_OK;
}

mm_status check_timestep(const char* op, const char* name, int64_t row, int32_t value, int32_t lo, int64_t steps) {
  if (value < lo || value >= steps) {
    return mm::fail(MM_ERR_ARG, "%s: %s[%lld] = %d is outside [%d, %lld] (the schedule has %lld steps)", op, name, static_cast<long long>(row), value,
                    lo, static_cast<long long>(steps - 1), static_cast<long long>(steps));
  }
  return MM_OK;
}

// alpha_bar_t in double from the table's hi and lo rows.
double alpha_bar(const float* table, int64_t steps, int32_t t) {
  return static_cast<double>(table[t]) + static_cast<double>(table[steps + t]);
}

}  // namespace

extern "C" mm_status mm_q_sample(const mm_tensor* x0, const mm_tensor* t, const mm_tensor* noise, const mm_tensor* table, mm_tensor** out) {
  const char* op = "qSample";
  return mm::guarded(op, [&]() -> mm_status {
    if (!x0 && !noise) return mm::fail(MM_ERR_ARG, "%s: 'x0' and 'noise' cannot both be null", op);
    const mm_tensor* x = x0 ? x0 : noise;
    const char* x_name = x0 ? "x0" : "noise";
    MM_TRY(mm::check_dtype(op, x_name, x, MM_F32));
    if (x0 && noise) {
      MM_TRY(mm::check_dtype(op, "noise", noise, MM_F32));
      MM_TRY(mm::check_same_device(op, "x0", x0, "noise", noise));
      MM_TRY(mm::check_same_shape(op, "x0", x0, "noise", noise));
    }
    int64_t rows = 0, D = 0, steps = 0;
    MM_TRY(check_rows(op, x_name, x, "t", t, &rows, &D));
    MM_TRY(check_table(op, x, table, &steps));
#if MM_WITH_CUDA
    if (mm::on_cuda(x)) {
      // Timesteps are checked on the device (an invalid one raises at the next host wait).
      MM_TRY(mm::cuda::select_device(mm_tensor_device(x).index));
      mm::OwnedTensor o;
      MM_TRY(mm::new_on_device_of(x, MM_F32, mm_tensor_ndim(x), mm_tensor_shape(x), &o.t));
      MM_TRY(mm::cuda::q_sample(f32(x0), f32(noise), i32(t), f32(table), steps, rows, D, mm::f32_mut(o.t)));
      *out = o.release();
      return MM_OK;
    }
#endif
    const int32_t* ts = i32(t);
    const float* tab = f32(table);
    std::vector<double> signal(static_cast<size_t>(rows)), noise_coef(static_cast<size_t>(rows));
    for (int64_t i = 0; i < rows; i++) {
      MM_TRY(check_timestep(op, "t", i, ts[i], 0, steps));
      const double ab = alpha_bar(tab, steps, ts[i]);
      signal[i] = std::sqrt(ab);
      noise_coef[i] = std::sqrt(1.0 - ab);
    }
    mm::cpu::RowTerm terms[2];
    int count = 0;
    if (x0) terms[count++] = {f32(x0), signal.data()};
    if (noise) terms[count++] = {f32(noise), noise_coef.data()};
    MM_TRY(mm::new_on_device_of(x, MM_F32, mm_tensor_ndim(x), mm_tensor_shape(x), out));
    mm::cpu::row_combination(terms, count, rows, D, mm::f32_mut(*out));
    return MM_OK;
  });
}

extern "C" mm_status mm_diffusion_step(const mm_tensor* xt, const mm_tensor* eps, const mm_tensor* t, const mm_tensor* t_prev, const mm_tensor* table,
                                       const mm_tensor* noise, double eta, double noise_scale, mm_tensor** out) {
  const char* op = "diffusionStep";
  return mm::guarded(op, [&]() -> mm_status {
    MM_TRY(mm::check_dtype(op, "xt", xt, MM_F32));
    MM_TRY(mm::check_dtype(op, "eps", eps, MM_F32));
    MM_TRY(mm::check_same_device(op, "xt", xt, "eps", eps));
    MM_TRY(mm::check_same_shape(op, "xt", xt, "eps", eps));
    if (noise) {
      MM_TRY(mm::check_dtype(op, "noise", noise, MM_F32));
      MM_TRY(mm::check_same_device(op, "xt", xt, "noise", noise));
      MM_TRY(mm::check_same_shape(op, "xt", xt, "noise", noise));
    }
    int64_t rows = 0, D = 0, steps = 0;
    MM_TRY(check_rows(op, "xt", xt, "t", t, &rows, &D));
    MM_TRY(mm::check_dtype(op, "tPrev", t_prev, MM_I32));
    MM_TRY(mm::check_same_device(op, "t", t, "tPrev", t_prev));
    MM_TRY(mm::check_same_shape(op, "t", t, "tPrev", t_prev));
    MM_TRY(check_table(op, xt, table, &steps));
    if (!(eta >= 0) || !std::isfinite(eta)) return mm::fail(MM_ERR_ARG, "%s: eta must be a finite number >= 0, got %g", op, eta);
    if (!(noise_scale >= 0) || !std::isfinite(noise_scale)) return mm::fail(MM_ERR_ARG, "%s: the noise scale (temperature) must be a finite number >= 0, got %g", op, noise_scale);
#if MM_WITH_CUDA
    if (mm::on_cuda(xt)) {
      MM_TRY(mm::cuda::select_device(mm_tensor_device(xt).index));
      mm::OwnedTensor o;
      MM_TRY(mm::new_on_device_of(xt, MM_F32, mm_tensor_ndim(xt), mm_tensor_shape(xt), &o.t));
      MM_TRY(mm::cuda::diffusion_step(f32(xt), f32(eps), f32(noise), i32(t), i32(t_prev), f32(table), steps, rows, D, eta, noise_scale,
                                      mm::f32_mut(o.t)));
      *out = o.release();
      return MM_OK;
    }
#endif
    const int32_t* ts = i32(t);
    const int32_t* ps = i32(t_prev);
    const float* tab = f32(table);
    std::vector<double> cx(static_cast<size_t>(rows)), ce(static_cast<size_t>(rows)), cz(static_cast<size_t>(rows));
    for (int64_t i = 0; i < rows; i++) {
      MM_TRY(check_timestep(op, "t", i, ts[i], 0, steps));
      if (ps[i] < -1 || ps[i] >= ts[i]) {
        return mm::fail(MM_ERR_ARG, "%s: tPrev[%lld] = %d must be in [-1, t - 1] where t[%lld] = %d (-1 steps to x0)", op, static_cast<long long>(i), ps[i],
                        static_cast<long long>(i), ts[i]);
      }
      const double ab = alpha_bar(tab, steps, ts[i]), ab_prev = ps[i] < 0 ? 1.0 : alpha_bar(tab, steps, ps[i]);
      if (!(ab > 0 && ab < 1) || !(ab_prev > 0 && ab_prev <= 1)) {
        return mm::fail(MM_ERR_ARG, "%s: alpha_bar must be in (0, 1) at t = %d and %d (got %g and %g)", op, ts[i], ps[i], ab, ab_prev);
      }
      // Posterior variance of q(x_prev | x_t, x0): (1 - ab_prev) / (1 - ab_t) * (1 - ab_t / ab_prev).
      const double variance = std::max((1.0 - ab_prev) / (1.0 - ab) * ((ab_prev - ab) / ab_prev), 0.0);
      const double sigma = eta * std::sqrt(variance);
      const double direction = std::sqrt(std::max(1.0 - ab_prev - sigma * sigma, 0.0));
      // x_prev = sqrt(ab_prev) x0_hat + direction * eps + sigma * noise_scale * z, with
      // x0_hat = (x_t - sqrt(1 - ab_t) eps) / sqrt(ab_t), folded into coefficients of x_t and eps.
      cx[i] = std::sqrt(ab_prev / ab);
      ce[i] = direction - std::sqrt(ab_prev) * std::sqrt(1.0 - ab) / std::sqrt(ab);
      cz[i] = sigma * noise_scale;
    }
    mm::cpu::RowTerm terms[3] = {{f32(xt), cx.data()}, {f32(eps), ce.data()}, {noise ? f32(noise) : nullptr, cz.data()}};
    MM_TRY(mm::new_on_device_of(xt, MM_F32, mm_tensor_ndim(xt), mm_tensor_shape(xt), out));
    mm::cpu::row_combination(terms, noise ? 3 : 2, rows, D, mm::f32_mut(*out));
    return MM_OK;
  });
}

extern "C" mm_status mm_timestep_embedding(const mm_tensor* t, int64_t dim, double max_period, mm_tensor** out) {
  const char* op = "timestepEmbedding";
  return mm::guarded(op, [&]() -> mm_status {
    MM_TRY(mm::check_tensor(op, "t", t));
    const mm_dtype dtype = mm_tensor_dtype(t);
    if (dtype != MM_F32 && dtype != MM_I32) return mm::fail(MM_ERR_DTYPE, "%s: argument 't' must be f32 or i32, got %s", op, mm_dtype_name(dtype));
    MM_TRY(mm::check_ndim(op, "t", t, 0, MM_MAX_DIMS - 1));
    if (dim < 1) return mm::fail(MM_ERR_ARG, "%s: dim must be >= 1, got %lld", op, static_cast<long long>(dim));
    if (!(max_period > 0) || !std::isfinite(max_period)) return mm::fail(MM_ERR_ARG, "%s: maxPeriod must be a finite number > 0, got %g", op, max_period);
    const int64_t rows = mm_tensor_numel(t);
    int64_t shape[MM_MAX_DIMS];
    const int n = mm_tensor_ndim(t);
    for (int i = 0; i < n; i++) shape[i] = mm_tensor_shape(t)[i];
    shape[n] = dim;
#if MM_WITH_CUDA
    if (mm::on_cuda(t)) {
      MM_TRY(mm::cuda::select_device(mm_tensor_device(t).index));
      mm::OwnedTensor o;
      MM_TRY(mm::new_on_device_of(t, MM_F32, n + 1, shape, &o.t));
      MM_TRY(mm::cuda::timestep_embedding(mm_tensor_data_const(t), dtype == MM_I32, rows, dim, max_period, mm::f32_mut(o.t)));
      *out = o.release();
      return MM_OK;
    }
#endif
    std::vector<double> values(static_cast<size_t>(rows));
    for (int64_t i = 0; i < rows; i++) values[i] = dtype == MM_I32 ? i32(t)[i] : f32(t)[i];
    MM_TRY(mm::new_on_device_of(t, MM_F32, n + 1, shape, out));
    mm::cpu::timestep_embedding(values.data(), rows, dim, max_period, mm::f32_mut(*out));
    return MM_OK;
  });
}
