// Checks shared by the op entry points (native/src/ops/*.cc): each names the op and argument
// and reports expected vs given, then the op dispatches to its cpu:: or cuda:: kernel.
#pragma once
#include <cstdint>

#include "../core/status.h"
#include "mmcot/mmcot.h"

namespace mm {

mm_status check_tensor(const char* op, const char* arg, const mm_tensor* t);
mm_status check_dtype(const char* op, const char* arg, const mm_tensor* t, mm_dtype expected);
mm_status check_ndim(const char* op, const char* arg, const mm_tensor* t, int min_ndim, int max_ndim);
mm_status check_same_device(const char* op, const char* arg_a, const mm_tensor* a, const char* arg_b, const mm_tensor* b);
// Every dimension of b equals a's (names both shapes on failure).
mm_status check_same_shape(const char* op, const char* arg_a, const mm_tensor* a, const char* arg_b, const mm_tensor* b);
// NumPy broadcasting of two shapes into out_shape (ndim = max of both).
mm_status broadcast_shapes(const char* op, const mm_tensor* a, const mm_tensor* b, int* out_ndim, int64_t* out_shape);

// A new uninitialised tensor on t's device.
mm_status new_on_device_of(const mm_tensor* like, mm_dtype dtype, int ndim, const int64_t* shape, mm_tensor** out);

inline bool on_cuda(const mm_tensor* t) { return mm_tensor_device(t).type == MM_CUDA; }

}  // namespace mm
