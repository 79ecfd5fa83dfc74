#include "check.h"

namespace mm {

mm_status check_tensor(const char* op, const char* arg, const mm_tensor* t) {
  return t ? MM_OK : fail(MM_ERR_ARG, "%s: argument '%s' is null", op, arg);
}

mm_status check_dtype(const char* op, const char* arg, const mm_tensor* t, mm_dtype expected) {
  MM_TRY(check_tensor(op, arg, t));
  if (mm_tensor_dtype(t) != expected) {
    return fail(MM_ERR_DTYPE, "%s: argument '%s' must be %s, got %s", op, arg, mm_dtype_name(expected), mm_dtype_name(mm_tensor_dtype(t)));
  }
  return MM_OK;
}

mm_status check_ndim(const char* op, const char* arg, const mm_tensor* t, int min_ndim, int max_ndim) {
  MM_TRY(check_tensor(op, arg, t));
  const int n = mm_tensor_ndim(t);
  if (n < min_ndim || n > max_ndim) {
    char buf[256];
    if (min_ndim == max_ndim) {
      return fail(MM_ERR_SHAPE, "%s: argument '%s' must have %d dimensions, got shape %s", op, arg, min_ndim, format_shape(buf, sizeof buf, n, mm_tensor_shape(t)));
    }
    return fail(MM_ERR_SHAPE, "%s: argument '%s' must have %d to %d dimensions, got shape %s", op, arg, min_ndim, max_ndim, format_shape(buf, sizeof buf, n, mm_tensor_shape(t)));
  }
  return MM_OK;
}

mm_status check_same_device(const char* op, const char* arg_a, const mm_tensor* a, const char* arg_b, const mm_tensor* b) {
  const mm_device da = mm_tensor_device(a), db = mm_tensor_device(b);
  if (da.type != db.type || da.index != db.index) {
    return fail(MM_ERR_DEVICE, "%s: '%s' is on %s:%d but '%s' is on %s:%d", op, arg_a, da.type == MM_CPU ? "cpu" : "cuda", da.index,
                arg_b, db.type == MM_CPU ? "cpu" : "cuda", db.index);
  }
  return MM_OK;
}

mm_status check_same_shape(const char* op, const char* arg_a, const mm_tensor* a, const char* arg_b, const mm_tensor* b) {
  bool same = mm_tensor_ndim(a) == mm_tensor_ndim(b);
  for (int i = 0; same && i < mm_tensor_ndim(a); i++) same = mm_tensor_shape(a)[i] == mm_tensor_shape(b)[i];
  if (!same) {
    char sa[256], sb[256];
    return fail(MM_ERR_SHAPE, "%s: '%s' has shape %s but '%s' has shape %s (they must match)", op, arg_a,
                format_shape(sa, sizeof sa, mm_tensor_ndim(a), mm_tensor_shape(a)), arg_b, format_shape(sb, sizeof sb, mm_tensor_ndim(b), mm_tensor_shape(b)));
  }
  return MM_OK;
}

mm_status broadcast_shapes(const char* op, const mm_tensor* a, const mm_tensor* b, int* out_ndim, int64_t* out_shape) {
  const int na = mm_tensor_ndim(a), nb = mm_tensor_ndim(b);
  const int n = na > nb ? na : nb;
  for (int i = 0; i < n; i++) {
    const int ia = i - (n - na), ib = i - (n - nb);
    const int64_t da = ia >= 0 ? mm_tensor_shape(a)[ia] : 1, db = ib >= 0 ? mm_tensor_shape(b)[ib] : 1;
    if (da != db && da != 1 && db != 1) {
      char sa[256], sb[256];
      return fail(MM_ERR_SHAPE, "%s: shapes %s and %s do not broadcast (dimension %d: %lld vs %lld)", op,
                  format_shape(sa, sizeof sa, na, mm_tensor_shape(a)), format_shape(sb, sizeof sb, nb, mm_tensor_shape(b)), i,
                  static_cast<long long>(da), static_cast<long long>(db));
    }
    out_shape[i] = da == 1 ? db : da;
  }
  *out_ndim = n;
  return MM_OK;
}

mm_status new_on_device_of(const mm_tensor* like, mm_dtype dtype, int ndim, const int64_t* shape, mm_tensor** out) {
  return mm_tensor_empty(mm_tensor_device(like), dtype, ndim, shape, out);
}

}  // namespace mm
