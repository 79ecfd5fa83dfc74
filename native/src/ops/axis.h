// Axis helpers shared by the shape, reduce and embedding entry points: Python-style negative
// axes, the [outer, size, inner] view of a contiguous tensor around one axis that their kernels
// work on, and index range checks.
#pragma once
#include <cstdint>

#include "../core/status.h"
#include "mmcot/mmcot.h"

namespace mm {

// Resolves axis in [-ndim, ndim) to [0, ndim), or fails naming the op and the valid range.
inline mm_status resolve_axis(const char* op, int axis, int ndim, int* out) {
  if (axis < -ndim || axis >= ndim) {
    if (ndim == 0) return fail(MM_ERR_ARG, "%s: axis %d is out of range: the tensor is 0-d (it has no axes)", op, axis);
    return fail(MM_ERR_ARG, "%s: axis %d is out of range for a tensor with %d dimensions (valid: %d to %d)", op, axis, ndim, -ndim, ndim - 1);
  }
  *out = axis < 0 ? axis + ndim : axis;
  return MM_OK;
}

// A contiguous tensor seen as [outer, size, inner] around `axis` (already resolved).
struct AxisView {
  int64_t outer = 1, size = 1, inner = 1;
};

inline AxisView axis_view(int ndim, const int64_t* shape, int axis) {
  AxisView v;
  for (int d = 0; d < axis; d++) v.outer *= shape[d];
  v.size = shape[axis];
  for (int d = axis + 1; d < ndim; d++) v.inner *= shape[d];
  return v;
}

// Checks i32 indices (host memory) against [0, size) and names the first bad one, e.g.
// "embedding: ids[7] = 12 is out of range for a table of 10 rows (valid: 0 to 9)".
inline mm_status check_indices(const char* op, const char* arg, const mm_tensor* indices, int64_t size, const char* what_before,
                               const char* what_after) {
  const int64_t n = mm_tensor_numel(indices);
  const int32_t* idx = static_cast<const int32_t*>(mm_tensor_data_const(indices));
  for (int64_t j = 0; j < n; j++) {
    if (idx[j] < 0 || idx[j] >= size) {
      return fail(MM_ERR_ARG, "%s: %s[%lld] = %d is out of range for %s%lld%s (valid: 0 to %lld)", op, arg, static_cast<long long>(j), idx[j],
                  what_before, static_cast<long long>(size), what_after, static_cast<long long>(size - 1));
    }
  }
  return MM_OK;
}

}  // namespace mm
