// Reduce family: argument checks and dispatch (kernels: cpu/reduce.cc).
#include "mmcot/ops/reduce.h"

#include <climits>

#include "../cpu/reduce.h"
#include "axis.h"
#include "check.h"
#include "dispatch.h"
#if MM_WITH_CUDA
#include "../cuda/reduce.h"
#endif

namespace {

const char* reduce_name(mm_reduce_op op) {
  switch (op) {
    case MM_REDUCE_SUM: return "sum";
    case MM_REDUCE_MEAN: return "mean";
    case MM_REDUCE_SUM_SQUARES: return "sumOfSquares";
  }
  return nullptr;
}

// shape without `axis` (or with it as 1 when keepdim).
int reduced_shape(int ndim, const int64_t* shape, int axis, bool keepdim, int64_t* out) {
  int n = 0;
  for (int d = 0; d < ndim; d++) {
    if (d != axis) out[n++] = shape[d];
    else if (keepdim) out[n++] = 1;
  }
  return n;
}

// The input shape a backward call describes: 1..MM_MAX_DIMS non-negative sizes.
mm_status check_input_shape(const char* op, int ndim, const int64_t* shape) {
  bool ok = ndim >= 1 && ndim <= MM_MAX_DIMS && shape;
  for (int d = 0; ok && d < ndim; d++) ok = shape[d] >= 0;
  return ok ? MM_OK : mm::fail(MM_ERR_ARG, "%s: the input shape must have 1 to %d non-negative sizes (got %d dimensions)", op, MM_MAX_DIMS, ndim);
}

// `t` (grad or indices) must have the reduced shape of (ndim, shape) over axis, with or without
// the kept axis.
mm_status check_reduced(const char* op, const char* arg, const mm_tensor* t, int ndim, const int64_t* shape, int axis) {
  int64_t kept[MM_MAX_DIMS], dropped[MM_MAX_DIMS];
  const int nk = reduced_shape(ndim, shape, axis, true, kept), nd = reduced_shape(ndim, shape, axis, false, dropped);
  const int tn = mm_tensor_ndim(t);
  const int64_t* ts = mm_tensor_shape(t);
  bool matches_kept = tn == nk, matches_dropped = tn == nd;
  for (int d = 0; matches_kept && d < nk; d++) matches_kept = ts[d] == kept[d];
  for (int d = 0; matches_dropped && d < nd; d++) matches_dropped = ts[d] == dropped[d];
  if (matches_kept || matches_dropped) return MM_OK;
  char a[256], b[256], c[256];
  return mm::fail(MM_ERR_SHAPE, "%s: '%s' has shape %s but a reduction of %s over axis %d has shape %s (or that with the axis kept as 1)", op, arg,
                  mm::format_shape(a, sizeof a, tn, ts), mm::format_shape(b, sizeof b, ndim, shape), axis, mm::format_shape(c, sizeof c, nd, dropped));
}

}  // namespace

extern "C" mm_status mm_reduce(mm_reduce_op op, const mm_tensor* x, int axis, int keepdim, mm_tensor** out) {
  const char* name = reduce_name(op);
  if (!name) return mm::fail(MM_ERR_ARG, "reduce: unknown op %d", static_cast<int>(op));
  return mm::guarded(name, [&]() -> mm_status {
    MM_TRY(mm::check_dtype(name, "x", x, MM_F32));
    int ax = 0;
    MM_TRY(mm::resolve_axis(name, axis, mm_tensor_ndim(x), &ax));
    int64_t shape[MM_MAX_DIMS];
    const int n = reduced_shape(mm_tensor_ndim(x), mm_tensor_shape(x), ax, keepdim != 0, shape);
    MM_TRY(mm::new_on_device_of(x, MM_F32, n, shape, out));
    const mm::AxisView v = mm::axis_view(mm_tensor_ndim(x), mm_tensor_shape(x), ax);
    // mean over an empty axis: 0 * (1/0) = NaN, as 0/0.
    const double scale = op == MM_REDUCE_MEAN ? 1.0 / static_cast<double>(v.size) : 1.0;
    MM_DISPATCH(x, reduce_sum(static_cast<const float*>(mm_tensor_data_const(x)), v.outer, v.size, v.inner, op == MM_REDUCE_SUM_SQUARES, scale,
                              static_cast<float*>(mm_tensor_data(*out))));
    return MM_OK;
  });
}

extern "C" mm_status mm_reduce_backward(mm_reduce_op op, const mm_tensor* grad, const mm_tensor* x, int ndim, const int64_t* shape, int axis,
                                        mm_tensor** out) {
  const char* name = reduce_name(op);
  if (!name) return mm::fail(MM_ERR_ARG, "reduceBackward: unknown op %d", static_cast<int>(op));
  return mm::guarded(name, [&]() -> mm_status {
    MM_TRY(mm::check_dtype(name, "grad", grad, MM_F32));
    MM_TRY(check_input_shape(name, ndim, shape));
    int ax = 0;
    MM_TRY(mm::resolve_axis(name, axis, ndim, &ax));
    MM_TRY(check_reduced(name, "grad", grad, ndim, shape, ax));
    const bool squares = op == MM_REDUCE_SUM_SQUARES;
    if (squares) {
      MM_TRY(mm::check_dtype(name, "x", x, MM_F32));
      MM_TRY(mm::check_same_device(name, "grad", grad, "x", x));
      bool same = mm_tensor_ndim(x) == ndim;
      for (int d = 0; same && d < ndim; d++) same = mm_tensor_shape(x)[d] == shape[d];
      if (!same) {
        char a[256], b[256];
        return mm::fail(MM_ERR_SHAPE, "%s backward: x has shape %s, expected %s", name, mm::format_shape(a, sizeof a, mm_tensor_ndim(x), mm_tensor_shape(x)),
                        mm::format_shape(b, sizeof b, ndim, shape));
      }
    }
    MM_TRY(mm::new_on_device_of(grad, MM_F32, ndim, shape, out));
    const mm::AxisView v = mm::axis_view(ndim, shape, ax);
    const float scale = op == MM_REDUCE_MEAN && v.size > 0 ? static_cast<float>(1.0 / static_cast<double>(v.size)) : 1.0f;
    MM_DISPATCH(grad, reduce_sum_backward(static_cast<const float*>(mm_tensor_data_const(grad)),
                                          squares ? static_cast<const float*>(mm_tensor_data_const(x)) : nullptr, v.outer, v.size, v.inner, scale,
                                          static_cast<float*>(mm_tensor_data(*out))));
    return MM_OK;
  });
}

extern "C" mm_status mm_max(const mm_tensor* x, int axis, int keepdim, mm_tensor** values, mm_tensor** indices) {
  return mm::guarded("max", [&]() -> mm_status {
    MM_TRY(mm::check_dtype("max", "x", x, MM_F32));
    int ax = 0;
    MM_TRY(mm::resolve_axis("max", axis, mm_tensor_ndim(x), &ax));
    const mm::AxisView v = mm::axis_view(mm_tensor_ndim(x), mm_tensor_shape(x), ax);
    if (v.size == 0) return mm::fail(MM_ERR_SHAPE, "max: axis %d is empty (size 0); the maximum of no values is undefined", ax);
    if (v.size > INT32_MAX) return mm::fail(MM_ERR_SHAPE, "max: axis %d has %lld entries; indices are i32", ax, static_cast<long long>(v.size));
    int64_t shape[MM_MAX_DIMS];
    const int n = reduced_shape(mm_tensor_ndim(x), mm_tensor_shape(x), ax, keepdim != 0, shape);
    MM_TRY(mm::new_on_device_of(x, MM_F32, n, shape, values));
    const mm_status status = mm::new_on_device_of(x, MM_I32, n, shape, indices);
    if (status != MM_OK) {
      mm_tensor_free(*values);
      *values = nullptr;
      return status;
    }
    const mm_status ran = [&]() -> mm_status {
      MM_DISPATCH(x, reduce_max(static_cast<const float*>(mm_tensor_data_const(x)), v.outer, v.size, v.inner, static_cast<float*>(mm_tensor_data(*values)),
                                static_cast<int32_t*>(mm_tensor_data(*indices))));
      return MM_OK;
    }();
    if (ran != MM_OK) {
      mm_tensor_free(*values);
      mm_tensor_free(*indices);
      *values = *indices = nullptr;
    }
    return ran;
  });
}

extern "C" mm_status mm_max_backward(const mm_tensor* grad, const mm_tensor* indices, int ndim, const int64_t* shape, int axis, mm_tensor** out) {
  return mm::guarded("maxBackward", [&]() -> mm_status {
    const char* op = "maxBackward";
    MM_TRY(mm::check_dtype(op, "grad", grad, MM_F32));
    MM_TRY(mm::check_dtype(op, "indices", indices, MM_I32));
    MM_TRY(mm::check_same_device(op, "grad", grad, "indices", indices));
    MM_TRY(check_input_shape(op, ndim, shape));
    int ax = 0;
    MM_TRY(mm::resolve_axis(op, axis, ndim, &ax));
    MM_TRY(check_reduced(op, "grad", grad, ndim, shape, ax));
    MM_TRY(mm::check_same_shape(op, "grad", grad, "indices", indices));
    const mm::AxisView v = mm::axis_view(ndim, shape, ax);
    // On CUDA the kernel checks the indices (device error flag: raised at the next host wait).
    if (!mm::on_cuda(indices)) MM_TRY(mm::check_indices(op, "indices", indices, v.size, "an axis of size ", ""));
    MM_TRY(mm::new_on_device_of(grad, MM_F32, ndim, shape, out));
    MM_DISPATCH(grad, reduce_max_backward(static_cast<const float*>(mm_tensor_data_const(grad)), static_cast<const int32_t*>(mm_tensor_data_const(indices)),
                                          v.outer, v.size, v.inner, static_cast<float*>(mm_tensor_data(*out))));
    return MM_OK;
  });
}
