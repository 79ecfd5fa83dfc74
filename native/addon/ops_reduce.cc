// Addon functions of the reduce family.
#include <climits>

#include "mmcot/ops.h"
#include "op_args.h"
#include "registry.h"

namespace mm_addon {
namespace {

int axis_arg(const ArgContext& args, size_t index) { return static_cast<int>(args.integer(index, "axis", INT32_MIN, INT32_MAX)); }

// reduce(op, x, axis, keepdim)
Napi::Value Reduce(const Napi::CallbackInfo& info) {
  ArgContext args{info, "reduce"};
  args.expect_count(4);
  const auto op = static_cast<mm_reduce_op>(args.integer(0, "op", MM_REDUCE_SUM, MM_REDUCE_SUM_SQUARES));
  const mm_tensor* x = TensorHandle::From(args, 1, "x");
  const int axis = axis_arg(args, 2);
  const bool keepdim = optional_bool(args, 3, "keepdim", false);
  return wrap_new_tensor(args, [&](mm_tensor** out) { return mm_reduce(op, x, axis, keepdim, out); });
}

// reduceBackward(op, grad, x | null, shape, axis)
Napi::Value ReduceBackward(const Napi::CallbackInfo& info) {
  ArgContext args{info, "reduceBackward"};
  args.expect_count(5);
  const auto op = static_cast<mm_reduce_op>(args.integer(0, "op", MM_REDUCE_SUM, MM_REDUCE_SUM_SQUARES));
  const mm_tensor* grad = TensorHandle::From(args, 1, "grad");
  const mm_tensor* x = optional_tensor(args, 2, "x");
  const std::vector<int64_t> shape = args.shape(3, "shape");
  const int axis = axis_arg(args, 4);
  return wrap_new_tensor(args, [&](mm_tensor** out) {
    return mm_reduce_backward(op, grad, x, static_cast<int>(shape.size()), shape.data(), axis, out);
  });
}

// max(x, axis, keepdim) -> [values, indices]
Napi::Value Max(const Napi::CallbackInfo& info) {
  ArgContext args{info, "max"};
  args.expect_count(3);
  const mm_tensor* x = TensorHandle::From(args, 0, "x");
  const int axis = axis_arg(args, 1);
  const bool keepdim = optional_bool(args, 2, "keepdim", false);
  mm_tensor* values = nullptr;
  mm_tensor* indices = nullptr;
  check(args.env(), mm_max(x, axis, keepdim, &values, &indices));
  Napi::Array out = Napi::Array::New(args.env(), 2);
  try {
    out.Set(0u, TensorHandle::Wrap(args.env(), values));
  } catch (...) {
    mm_tensor_free(indices);
    throw;
  }
  out.Set(1u, TensorHandle::Wrap(args.env(), indices));
  return out;
}

// maxBackward(grad, indices, shape, axis)
Napi::Value MaxBackward(const Napi::CallbackInfo& info) {
  ArgContext args{info, "maxBackward"};
  args.expect_count(4);
  const mm_tensor* grad = TensorHandle::From(args, 0, "grad");
  const mm_tensor* indices = TensorHandle::From(args, 1, "indices");
  const std::vector<int64_t> shape = args.shape(2, "shape");
  const int axis = axis_arg(args, 3);
  return wrap_new_tensor(args, [&](mm_tensor** out) {
    return mm_max_backward(grad, indices, static_cast<int>(shape.size()), shape.data(), axis, out);
  });
}

}  // namespace

MM_ADDON_EXPORT("reduce", Reduce);
MM_ADDON_EXPORT("reduceBackward", ReduceBackward);
MM_ADDON_EXPORT("max", Max);
MM_ADDON_EXPORT("maxBackward", MaxBackward);

}  // namespace mm_addon
