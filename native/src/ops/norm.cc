// Normalisation family: argument checks and dispatch (kernels: cpu/norm.cc).
#include "mmcot/ops/norm.h"

#include <cmath>

#include "../cpu/norm.h"
#include "check.h"
#include "dispatch.h"
#include "tensor_util.h"
#if MM_WITH_CUDA
#include "../cuda/norm.h"
#endif

namespace mm {
namespace {

int64_t last_dim(const mm_tensor* t) { return mm_tensor_shape(t)[mm_tensor_ndim(t) - 1]; }

// Number of rows of t seen as [rows, last dim].
int64_t row_count(const mm_tensor* t) {
  int64_t rows = 1;
  for (int i = 0; i + 1 < mm_tensor_ndim(t); i++) rows *= mm_tensor_shape(t)[i];
  return rows;
}

// The input every row-wise op takes: f32 with at least one dimension.
mm_status check_rows(const char* op, const char* arg, const mm_tensor* x) {
  MM_TRY(check_dtype(op, arg, x, MM_F32));
  return check_ndim(op, arg, x, 1, MM_MAX_DIMS);
}

// A per-column parameter (weight, bias): f32 [D] with D the last dimension of x, on x's device.
mm_status check_column_param(const char* op, const char* arg, const mm_tensor* p, const mm_tensor* x) {
  MM_TRY(check_dtype(op, arg, p, MM_F32));
  MM_TRY(check_same_device(op, "x", x, arg, p));
  if (mm_tensor_ndim(p) != 1 || mm_tensor_shape(p)[0] != last_dim(x)) {
    char sp[256], sx[256];
    return fail(MM_ERR_SHAPE, "%s: '%s' has shape %s but must be [%lld], the last dimension of 'x' (shape %s)", op, arg,
                format_shape(sp, sizeof sp, mm_tensor_ndim(p), mm_tensor_shape(p)), static_cast<long long>(last_dim(x)),
                format_shape(sx, sizeof sx, mm_tensor_ndim(x), mm_tensor_shape(x)));
  }
  return MM_OK;
}

// Per-row statistics saved by a forward (rstd): f32 of shape x.shape[:-1].
mm_status check_row_stats(const char* op, const char* arg, const mm_tensor* s, const mm_tensor* x) {
  MM_TRY(check_dtype(op, arg, s, MM_F32));
  MM_TRY(check_same_device(op, "x", x, arg, s));
  bool ok = mm_tensor_ndim(s) == mm_tensor_ndim(x) - 1;
  for (int i = 0; ok && i < mm_tensor_ndim(s); i++) ok = mm_tensor_shape(s)[i] == mm_tensor_shape(x)[i];
  if (!ok) {
    char ss[256], sx[256];
    return fail(MM_ERR_SHAPE, "%s: '%s' has shape %s but must be the shape of 'x' (%s) without its last dimension", op, arg,
                format_shape(ss, sizeof ss, mm_tensor_ndim(s), mm_tensor_shape(s)), format_shape(sx, sizeof sx, mm_tensor_ndim(x), mm_tensor_shape(x)));
  }
  return MM_OK;
}

// The incoming gradient: f32, x's shape and device.
mm_status check_grad(const char* op, const mm_tensor* dy, const mm_tensor* x) {
  MM_TRY(check_dtype(op, "dy", dy, MM_F32));
  MM_TRY(check_same_device(op, "x", x, "dy", dy));
  return check_same_shape(op, "x", x, "dy", dy);
}

mm_status check_eps(const char* op, double eps) {
  if (!(eps >= 0) || !std::isfinite(eps)) return fail(MM_ERR_ARG, "%s: 'eps' must be a finite number >= 0, got %g", op, eps);
  return MM_OK;
}

// AdaLN conditions: shift and scale alike, [D] or [B, D] with x [B, ..., D]. Sets the number of
// conditions (groups) and the rows of x each one covers.
mm_status check_conditions(const char* op, const mm_tensor* x, const mm_tensor* shift, const mm_tensor* scale, int64_t* groups,
                           int64_t* rows_per_group) {
  MM_TRY(check_dtype(op, "shift", shift, MM_F32));
  MM_TRY(check_dtype(op, "scale", scale, MM_F32));
  MM_TRY(check_same_device(op, "x", x, "shift", shift));
  MM_TRY(check_same_device(op, "x", x, "scale", scale));
  MM_TRY(check_same_shape(op, "shift", shift, "scale", scale));
  const int nd = mm_tensor_ndim(shift), xd = mm_tensor_ndim(x);
  const int64_t* s = mm_tensor_shape(shift);
  const bool ok = (nd == 1 && s[0] == last_dim(x)) || (nd == 2 && xd >= 2 && s[0] == mm_tensor_shape(x)[0] && s[1] == last_dim(x));
  if (!ok) {
    char ss[256], sx[256];
    return fail(MM_ERR_SHAPE, "%s: 'shift' and 'scale' have shape %s but must be [D] or [B, D] for 'x' [B, ..., D]; 'x' has shape %s", op,
                format_shape(ss, sizeof ss, nd, s), format_shape(sx, sizeof sx, xd, mm_tensor_shape(x)));
  }
  *groups = nd == 1 ? 1 : s[0];
  *rows_per_group = *groups ? row_count(x) / *groups : 0;
  return MM_OK;
}

}  // namespace
}  // namespace mm

using mm::f32;

extern "C" mm_status mm_rms_norm(const mm_tensor* x, const mm_tensor* weight, double eps, mm_tensor** out, mm_tensor** rstd) {
  const char* op = "rmsNorm";
  return mm::guarded(op, [&]() -> mm_status {
    MM_TRY(mm::check_rows(op, "x", x));
    MM_TRY(mm::check_column_param(op, "weight", weight, x));
    MM_TRY(mm::check_eps(op, eps));
    if (!out) return mm::fail(MM_ERR_ARG, "%s: 'out' is null", op);
    const int nd = mm_tensor_ndim(x);
    mm::Outputs<2> o;
    MM_TRY(o.make(0, x, nd, mm_tensor_shape(x), out));
    MM_TRY(o.make(1, x, nd - 1, mm_tensor_shape(x), rstd));
    MM_DISPATCH(x, rms_norm(f32(x), f32(weight), mm::row_count(x), mm::last_dim(x), eps, o.data(0), o.data(1)));
    o.give(0, out);
    o.give(1, rstd);
    return MM_OK;
  });
}

extern "C" mm_status mm_rms_norm_backward(const mm_tensor* dy, const mm_tensor* x, const mm_tensor* weight, const mm_tensor* rstd,
                                          mm_tensor** dx, mm_tensor** dweight) {
  const char* op = "rmsNorm backward";
  return mm::guarded(op, [&]() -> mm_status {
    MM_TRY(mm::check_rows(op, "x", x));
    MM_TRY(mm::check_grad(op, dy, x));
    MM_TRY(mm::check_column_param(op, "weight", weight, x));
    MM_TRY(mm::check_row_stats(op, "rstd", rstd, x));
    mm::Outputs<2> o;
    MM_TRY(o.make(0, x, mm_tensor_ndim(x), mm_tensor_shape(x), dx));
    MM_TRY(o.make(1, x, 1, mm_tensor_shape(weight), dweight));
    MM_DISPATCH(x, rms_norm_backward(f32(dy), f32(x), f32(weight), f32(rstd), mm::row_count(x), mm::last_dim(x), o.data(0),
                                      o.data(1)));
    o.give(0, dx);
    o.give(1, dweight);
    return MM_OK;
  });
}

extern "C" mm_status mm_layer_norm(const mm_tensor* x, const mm_tensor* weight, const mm_tensor* bias, double eps, mm_tensor** out,
                                   mm_tensor** rstd) {
  const char* op = "layerNorm";
  return mm::guarded(op, [&]() -> mm_status {
    MM_TRY(mm::check_rows(op, "x", x));
    if (weight) MM_TRY(mm::check_column_param(op, "weight", weight, x));
    if (bias) MM_TRY(mm::check_column_param(op, "bias", bias, x));
    MM_TRY(mm::check_eps(op, eps));
    if (!out) return mm::fail(MM_ERR_ARG, "%s: 'out' is null", op);
    const int nd = mm_tensor_ndim(x);
    mm::Outputs<2> o;
    MM_TRY(o.make(0, x, nd, mm_tensor_shape(x), out));
    MM_TRY(o.make(1, x, nd - 1, mm_tensor_shape(x), rstd));
    MM_DISPATCH(x, layer_norm(f32(x), f32(weight), f32(bias), mm::row_count(x), mm::last_dim(x), eps, o.data(0), o.data(1)));
    o.give(0, out);
    o.give(1, rstd);
    return MM_OK;
  });
}

extern "C" mm_status mm_layer_norm_backward(const mm_tensor* dy, const mm_tensor* x, const mm_tensor* weight, const mm_tensor* rstd,
                                            mm_tensor** dx, mm_tensor** dweight, mm_tensor** dbias) {
  const char* op = "layerNorm backward";
  return mm::guarded(op, [&]() -> mm_status {
    MM_TRY(mm::check_rows(op, "x", x));
    MM_TRY(mm::check_grad(op, dy, x));
    if (weight) MM_TRY(mm::check_column_param(op, "weight", weight, x));
    MM_TRY(mm::check_row_stats(op, "rstd", rstd, x));
    const int64_t d = mm::last_dim(x);
    mm::Outputs<3> o;
    MM_TRY(o.make(0, x, mm_tensor_ndim(x), mm_tensor_shape(x), dx));
    MM_TRY(o.make(1, x, 1, &d, dweight));
    MM_TRY(o.make(2, x, 1, &d, dbias));
    MM_DISPATCH(x, layer_norm_backward(f32(dy), f32(x), f32(weight), f32(rstd), mm::row_count(x), d, o.data(0), o.data(1),
                                        o.data(2)));
    o.give(0, dx);
    o.give(1, dweight);
    o.give(2, dbias);
    return MM_OK;
  });
}

extern "C" mm_status mm_modulate(const mm_tensor* x, const mm_tensor* shift, const mm_tensor* scale, mm_tensor** out) {
  const char* op = "modulate";
  return mm::guarded(op, [&]() -> mm_status {
    MM_TRY(mm::check_rows(op, "x", x));
    int64_t groups = 0, rows_per_group = 0;
    MM_TRY(mm::check_conditions(op, x, shift, scale, &groups, &rows_per_group));
    if (!out) return mm::fail(MM_ERR_ARG, "%s: 'out' is null", op);
    MM_TRY(mm::new_on_device_of(x, MM_F32, mm_tensor_ndim(x), mm_tensor_shape(x), out));
    MM_DISPATCH(x, modulate(f32(x), f32(shift), f32(scale), groups, rows_per_group, mm::last_dim(x),
                            static_cast<float*>(mm_tensor_data(*out))));
    return MM_OK;
  });
}

extern "C" mm_status mm_modulate_backward(const mm_tensor* dy, const mm_tensor* x, const mm_tensor* scale, mm_tensor** dx,
                                          mm_tensor** dshift, mm_tensor** dscale) {
  const char* op = "modulate backward";
  return mm::guarded(op, [&]() -> mm_status {
    MM_TRY(mm::check_rows(op, "x", x));
    MM_TRY(mm::check_grad(op, dy, x));
    int64_t groups = 0, rows_per_group = 0;
    MM_TRY(mm::check_conditions(op, x, scale, scale, &groups, &rows_per_group));
    mm::Outputs<3> o;
    MM_TRY(o.make(0, x, mm_tensor_ndim(x), mm_tensor_shape(x), dx));
    MM_TRY(o.make(1, x, mm_tensor_ndim(scale), mm_tensor_shape(scale), dshift));
    MM_TRY(o.make(2, x, mm_tensor_ndim(scale), mm_tensor_shape(scale), dscale));
    MM_DISPATCH(x, modulate_backward(f32(dy), f32(x), f32(scale), groups, rows_per_group, mm::last_dim(x), o.data(0), o.data(1),
                                      o.data(2)));
    o.give(0, dx);
    o.give(1, dshift);
    o.give(2, dscale);
    return MM_OK;
  });
}
