// Shape family: argument checks and dispatch (kernels: cpu/shape.cc).
#include "mmcot/ops/shape.h"

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "../core/convert.h"
#include "../cpu/shape.h"
#include "axis.h"
#include "check.h"
#include "dispatch.h"
#if MM_WITH_CUDA
#include "../cuda/shape.h"
// For CUDA kernels whose arguments differ from the CPU's (they name the op for device errors):
// runs mm::cuda::kernel(args...) on t's device and returns from the entry point.
#define MM_ON_CUDA(t, ...)                                              \
  if (::mm::on_cuda(t)) {                                               \
    MM_TRY(::mm::cuda::select_device(mm_tensor_device(t).index));       \
    MM_TRY(::mm::cuda::__VA_ARGS__);                                    \
    return MM_OK;                                                       \
  }
#else
#define MM_ON_CUDA(t, ...)
#endif

namespace mm {

namespace {

const void* data_of(const mm_tensor* t) { return mm_tensor_data_const(t); }

// Shared front of the single-input shape ops: x valid, axis resolved.
mm_status check_axis_op(const char* op, const mm_tensor* x, int axis, int* resolved) {
  MM_TRY(check_tensor(op, "x", x));
  return resolve_axis(op, axis, mm_tensor_ndim(x), resolved);
}

// x's shape with `size` along `axis`.
void shape_with(const mm_tensor* x, int axis, int64_t size, int64_t* shape) {
  for (int d = 0; d < mm_tensor_ndim(x); d++) shape[d] = mm_tensor_shape(x)[d];
  shape[axis] = size;
}

}  // namespace
}  // namespace mm

extern "C" mm_status mm_permute(const mm_tensor* x, int ndim, const int* dims, mm_tensor** out) {
  return mm::guarded("permute", [&]() -> mm_status {
    MM_TRY(mm::check_tensor("permute", "x", x));
    const int n = mm_tensor_ndim(x);
    if (ndim != n || (n > 0 && !dims)) {
      char buf[256];
      return mm::fail(MM_ERR_ARG, "permute: dims has %d entries but x has %d dimensions (shape %s)", ndim, n,
                      mm::format_shape(buf, sizeof buf, n, mm_tensor_shape(x)));
    }
    bool seen[MM_MAX_DIMS] = {};
    for (int i = 0; i < n; i++) {
      const int d = dims[i];
      if (d < 0 || d >= n || seen[d]) {
        return mm::fail(MM_ERR_ARG, "permute: dims must be a permutation of 0..%d (non-negative, each once); entry %d is %d", n - 1, i, d);
      }
      seen[d] = true;
    }
    int64_t shape[MM_MAX_DIMS];
    for (int i = 0; i < n; i++) shape[i] = mm_tensor_shape(x)[dims[i]];
    MM_TRY(mm::new_on_device_of(x, mm_tensor_dtype(x), n, shape, out));
    if (mm_tensor_numel(x) == 0) return MM_OK;
    MM_DISPATCH(x, permute(mm::data_of(x), n, mm_tensor_shape(x), dims, mm_tensor_data(*out), mm_dtype_size(mm_tensor_dtype(x))));
    return MM_OK;
  });
}

extern "C" mm_status mm_concat(int count, const mm_tensor* const* tensors, int axis, mm_tensor** out) {
  return mm::guarded("concat", [&]() -> mm_status {
    if (count < 1 || !tensors) return mm::fail(MM_ERR_ARG, "concat: needs at least one tensor, got %d", count);
    std::vector<std::string> names(static_cast<size_t>(count));
    for (int i = 0; i < count; i++) {
      names[i] = "tensors[" + std::to_string(i) + "]";
      MM_TRY(mm::check_tensor("concat", names[i].c_str(), tensors[i]));
    }
    const mm_tensor* first = tensors[0];
    const int n = mm_tensor_ndim(first);
    int ax = 0;
    MM_TRY(mm::resolve_axis("concat", axis, n, &ax));
    int64_t total = 0;
    for (int i = 0; i < count; i++) {
      const mm_tensor* t = tensors[i];
      if (mm_tensor_dtype(t) != mm_tensor_dtype(first)) {
        return mm::fail(MM_ERR_DTYPE, "concat: tensors[0] is %s but %s is %s (they must match)", mm_dtype_name(mm_tensor_dtype(first)), names[i].c_str(),
                        mm_dtype_name(mm_tensor_dtype(t)));
      }
      MM_TRY(mm::check_same_device("concat", "tensors[0]", first, names[i].c_str(), t));
      bool same = mm_tensor_ndim(t) == n;
      for (int d = 0; same && d < n; d++) same = d == ax || mm_tensor_shape(t)[d] == mm_tensor_shape(first)[d];
      if (!same) {
        char sa[256], sb[256];
        return mm::fail(MM_ERR_SHAPE, "concat: tensors[0] has shape %s but %s has shape %s (all dimensions except axis %d must match)",
                        mm::format_shape(sa, sizeof sa, n, mm_tensor_shape(first)), names[i].c_str(),
                        mm::format_shape(sb, sizeof sb, mm_tensor_ndim(t), mm_tensor_shape(t)), ax);
      }
      total += mm_tensor_shape(t)[ax];
    }
    int64_t shape[MM_MAX_DIMS];
    mm::shape_with(first, ax, total, shape);
    MM_TRY(mm::new_on_device_of(first, mm_tensor_dtype(first), n, shape, out));
    const mm::AxisView v = mm::axis_view(n, shape, ax);
    int64_t at = 0;
    for (int i = 0; i < count; i++) {
      const int64_t size = mm_tensor_shape(tensors[i])[ax];
      MM_DISPATCH(first, copy_axis_window(mm::data_of(tensors[i]), size, 0, mm_tensor_data(*out), total, at, v.outer, size, v.inner,
                                          mm_dtype_size(mm_tensor_dtype(first))));
      at += size;
    }
    return MM_OK;
  });
}

extern "C" mm_status mm_slice(const mm_tensor* x, int axis, int64_t start, int64_t end, mm_tensor** out) {
  return mm::guarded("slice", [&]() -> mm_status {
    int ax = 0;
    MM_TRY(mm::check_axis_op("slice", x, axis, &ax));
    const int64_t size = mm_tensor_shape(x)[ax];
    const int64_t s = start < 0 ? start + size : start, e = end < 0 ? end + size : end;
    if (s < 0 || e > size || s > e) {
      return mm::fail(MM_ERR_ARG, "slice: [%lld, %lld) is out of range for axis %d of size %lld (need 0 <= start <= end <= size after negative bounds add the size)",
                      static_cast<long long>(start), static_cast<long long>(end), ax, static_cast<long long>(size));
    }
    int64_t shape[MM_MAX_DIMS];
    mm::shape_with(x, ax, e - s, shape);
    MM_TRY(mm::new_on_device_of(x, mm_tensor_dtype(x), mm_tensor_ndim(x), shape, out));
    const mm::AxisView v = mm::axis_view(mm_tensor_ndim(x), mm_tensor_shape(x), ax);
    MM_DISPATCH(x, copy_axis_window(mm::data_of(x), size, s, mm_tensor_data(*out), e - s, 0, v.outer, e - s, v.inner, mm_dtype_size(mm_tensor_dtype(x))));
    return MM_OK;
  });
}

extern "C" mm_status mm_slice_assign(mm_tensor* dst, const mm_tensor* src, int axis, int64_t start) {
  return mm::guarded("sliceAssign", [&]() -> mm_status {
    const char* op = "sliceAssign";
    int ax = 0;
    MM_TRY(mm::check_axis_op(op, dst, axis, &ax));
    MM_TRY(mm::check_tensor(op, "src", src));
    MM_TRY(mm::check_same_device(op, "dst", dst, "src", src));
    if (mm_tensor_dtype(src) != mm_tensor_dtype(dst)) {
      return mm::fail(MM_ERR_DTYPE, "%s: 'src' is %s but 'dst' is %s", op, mm_dtype_name(mm_tensor_dtype(src)), mm_dtype_name(mm_tensor_dtype(dst)));
    }
    bool same = mm_tensor_ndim(src) == mm_tensor_ndim(dst);
    for (int i = 0; same && i < mm_tensor_ndim(dst); i++) same = i == ax || mm_tensor_shape(src)[i] == mm_tensor_shape(dst)[i];
    const int64_t size = mm_tensor_shape(dst)[ax];
    const int64_t count = same ? mm_tensor_shape(src)[ax] : 0;
    if (!same || start < 0 || start + count > size) {
      char a[256], b[256];
      return mm::fail(MM_ERR_SHAPE, "%s: cannot write 'src' %s into 'dst' %s at %lld along axis %d (other dimensions must match and the window must fit)", op,
                      mm::format_shape(a, sizeof a, mm_tensor_ndim(src), mm_tensor_shape(src)), mm::format_shape(b, sizeof b, mm_tensor_ndim(dst), mm_tensor_shape(dst)),
                      static_cast<long long>(start), ax);
    }
    const mm::AxisView v = mm::axis_view(mm_tensor_ndim(dst), mm_tensor_shape(dst), ax);
    MM_DISPATCH(dst, copy_axis_window(mm::data_of(src), count, 0, mm_tensor_data(dst), size, start, v.outer, count, v.inner,
                                      mm_dtype_size(mm_tensor_dtype(dst))));
    return MM_OK;
  });
}

extern "C" mm_status mm_pad(const mm_tensor* x, int axis, int64_t before, int64_t after, double value, mm_tensor** out) {
  return mm::guarded("pad", [&]() -> mm_status {
    int ax = 0;
    MM_TRY(mm::check_axis_op("pad", x, axis, &ax));
    if (before < 0 || after < 0) {
      return mm::fail(MM_ERR_ARG, "pad: before and after must be >= 0, got %lld and %lld", static_cast<long long>(before), static_cast<long long>(after));
    }
    const int64_t size = mm_tensor_shape(x)[ax];
    int64_t shape[MM_MAX_DIMS];
    mm::shape_with(x, ax, before + size + after, shape);
    MM_TRY(mm::new_on_device_of(x, mm_tensor_dtype(x), mm_tensor_ndim(x), shape, out));
    const mm::AxisView v = mm::axis_view(mm_tensor_ndim(x), mm_tensor_shape(x), ax);
#if MM_WITH_CUDA
    if (mm::on_cuda(x)) {
      // One pass writes the fill and the copy; the fill's bits are those mm_tensor_fill stores.
      const mm_dtype dtype = mm_tensor_dtype(x);
      uint32_t bits = 0;
      if (dtype == MM_I32) {
        if (!(value >= INT32_MIN && value <= INT32_MAX)) {
          const mm_status refused = mm_tensor_fill(*out, value);  // the fill's own error for this value
          mm_tensor_free(*out);
          *out = nullptr;
          return refused != MM_OK ? refused : mm::fail(MM_ERR_ARG, "pad: %g does not fit in i32", value);
        }
        bits = static_cast<uint32_t>(static_cast<int32_t>(value));
      } else if (dtype == MM_BF16) {
        bits = mm::f32_to_bf16_bits(static_cast<float>(value));
      } else {
        const float f = static_cast<float>(value);
        std::memcpy(&bits, &f, sizeof bits);
      }
      MM_TRY(mm::cuda::select_device(mm_tensor_device(x).index));
      MM_TRY(mm::cuda::pad_axis(mm::data_of(x), size, mm_tensor_data(*out), before, after, v.outer, v.inner, mm_dtype_size(dtype), bits));
      return MM_OK;
    }
#endif
    MM_TRY(mm_tensor_fill(*out, value));
    mm::cpu::copy_axis_window(mm::data_of(x), size, 0, mm_tensor_data(*out), shape[ax], before, v.outer, size, v.inner, mm_dtype_size(mm_tensor_dtype(x)));
    return MM_OK;
  });
}

namespace {
mm_status check_index_vector(const char* op, const mm_tensor* x, const mm_tensor* indices) {
  MM_TRY(mm::check_dtype(op, "indices", indices, MM_I32));
  MM_TRY(mm::check_ndim(op, "indices", indices, 1, 1));
  return mm::check_same_device(op, "x", x, "indices", indices);
}
}  // namespace

extern "C" mm_status mm_index_select(const mm_tensor* x, int axis, const mm_tensor* indices, mm_tensor** out) {
  return mm::guarded("indexSelect", [&]() -> mm_status {
    int ax = 0;
    MM_TRY(mm::check_tensor("indexSelect", "x", x));
    MM_TRY(check_index_vector("indexSelect", x, indices));
    MM_TRY(mm::check_axis_op("indexSelect", x, axis, &ax));
    const int64_t size = mm_tensor_shape(x)[ax], k = mm_tensor_numel(indices);
    // On CUDA the kernel checks the indices (device error flag: raised at the next host wait).
    if (!mm::on_cuda(indices)) MM_TRY(mm::check_indices("indexSelect", "indices", indices, size, "an axis of size ", ""));
    int64_t shape[MM_MAX_DIMS];
    mm::shape_with(x, ax, k, shape);
    MM_TRY(mm::new_on_device_of(x, mm_tensor_dtype(x), mm_tensor_ndim(x), shape, out));
    const mm::AxisView v = mm::axis_view(mm_tensor_ndim(x), mm_tensor_shape(x), ax);
    MM_ON_CUDA(x, gather_axis("indexSelect", mm::data_of(x), v.outer, size, v.inner, static_cast<const int32_t*>(mm::data_of(indices)), k,
                              mm_tensor_data(*out), mm_dtype_size(mm_tensor_dtype(x))));
    mm::cpu::gather_axis(mm::data_of(x), v.outer, size, v.inner, static_cast<const int32_t*>(mm::data_of(indices)), k, mm_tensor_data(*out),
                         mm_dtype_size(mm_tensor_dtype(x)));
    return MM_OK;
  });
}

extern "C" mm_status mm_index_select_backward(const mm_tensor* grad, int axis, const mm_tensor* indices, int64_t size, mm_tensor** out) {
  return mm::guarded("indexSelectBackward", [&]() -> mm_status {
    const char* op = "indexSelectBackward";
    int ax = 0;
    MM_TRY(mm::check_dtype(op, "grad", grad, MM_F32));
    MM_TRY(check_index_vector(op, grad, indices));
    MM_TRY(mm::check_axis_op(op, grad, axis, &ax));
    const int64_t k = mm_tensor_numel(indices);
    if (size < 0 || mm_tensor_shape(grad)[ax] != k) {
      return mm::fail(MM_ERR_SHAPE, "%s: grad has %lld entries along axis %d but there are %lld indices (and size %lld must be >= 0)", op,
                      static_cast<long long>(mm_tensor_shape(grad)[ax]), ax, static_cast<long long>(k), static_cast<long long>(size));
    }
    if (!mm::on_cuda(indices)) MM_TRY(mm::check_indices(op, "indices", indices, size, "an axis of size ", ""));
    int64_t shape[MM_MAX_DIMS];
    mm::shape_with(grad, ax, size, shape);
    MM_TRY(mm::new_on_device_of(grad, MM_F32, mm_tensor_ndim(grad), shape, out));
    const mm::AxisView v = mm::axis_view(mm_tensor_ndim(grad), mm_tensor_shape(grad), ax);
    MM_ON_CUDA(grad, scatter_add_axis(op, static_cast<const float*>(mm::data_of(grad)), v.outer, k, v.inner, static_cast<const int32_t*>(mm::data_of(indices)),
                                      size, static_cast<float*>(mm_tensor_data(*out))));
    mm::cpu::scatter_add_axis(static_cast<const float*>(mm::data_of(grad)), v.outer, k, v.inner, static_cast<const int32_t*>(mm::data_of(indices)), size,
                              static_cast<float*>(mm_tensor_data(*out)));
    return MM_OK;
  });
}
