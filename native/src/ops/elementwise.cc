// Elementwise family: argument checks and dispatch (kernels: cpu/elementwise.cc).
#include "mmcot/ops/elementwise.h"

#include "../cpu/elementwise.h"
#include "check.h"
#include "dispatch.h"
#if MM_WITH_CUDA
#include "../cuda/elementwise.h"
#endif

extern "C" mm_status mm_binary(mm_binary_op op, const mm_tensor* a, const mm_tensor* b, mm_tensor** out) {
  static const char* names[] = {"add", "sub", "mul", "div"};
  if (op < MM_BINARY_ADD || op > MM_BINARY_DIV) return mm::fail(MM_ERR_ARG, "binary: unknown op %d", static_cast<int>(op));
  const char* name = names[op];
  return mm::guarded(name, [&]() -> mm_status {
    MM_TRY(mm::check_dtype(name, "a", a, MM_F32));
    MM_TRY(mm::check_dtype(name, "b", b, MM_F32));
    MM_TRY(mm::check_same_device(name, "a", a, "b", b));
    int ndim = 0;
    int64_t shape[MM_MAX_DIMS];
    MM_TRY(mm::broadcast_shapes(name, a, b, &ndim, shape));
    MM_TRY(mm::new_on_device_of(a, MM_F32, ndim, shape, out));
    MM_DISPATCH(a, binary(op, static_cast<const float*>(mm_tensor_data_const(a)), mm_tensor_ndim(a), mm_tensor_shape(a),
                    static_cast<const float*>(mm_tensor_data_const(b)), mm_tensor_ndim(b), mm_tensor_shape(b),
                    static_cast<float*>(mm_tensor_data(*out)), ndim, shape));
    return MM_OK;
  });
}

extern "C" mm_status mm_sum_to(const mm_tensor* t, int ndim, const int64_t* shape, mm_tensor** out) {
  return mm::guarded("sumTo", [&]() -> mm_status {
    MM_TRY(mm::check_dtype("sumTo", "t", t, MM_F32));
    // `shape` must broadcast to t's shape (t's shape is the broadcast result).
    const int tn = mm_tensor_ndim(t);
    bool ok = ndim >= 0 && ndim <= tn;
    for (int i = 0; ok && i < ndim; i++) {
      const int64_t target = shape[i], have = mm_tensor_shape(t)[i + tn - ndim];
      ok = target == have || target == 1;
    }
    if (!ok) {
      char a[256], b[256];
      return mm::fail(MM_ERR_SHAPE, "sumTo: shape %s does not broadcast to the tensor's shape %s", mm::format_shape(a, sizeof a, ndim, shape),
                      mm::format_shape(b, sizeof b, tn, mm_tensor_shape(t)));
    }
    MM_TRY(mm::new_on_device_of(t, MM_F32, ndim, shape, out));
    MM_DISPATCH(t, sum_to(static_cast<const float*>(mm_tensor_data_const(t)), tn, mm_tensor_shape(t), static_cast<float*>(mm_tensor_data(*out)), ndim, shape));
    return MM_OK;
  });
}
