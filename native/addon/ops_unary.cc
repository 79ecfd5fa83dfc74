// Addon functions of the unary family.
#include "mmcot/ops.h"
#include "op_args.h"
#include "registry.h"

namespace mm_addon {
namespace {

mm_unary_op op_arg(const ArgContext& args) { return static_cast<mm_unary_op>(args.integer(0, "op", 0, MM_UNARY_OP_COUNT - 1)); }

// unary(op, x, p0, p1)
Napi::Value Unary(const Napi::CallbackInfo& info) {
  ArgContext args{info, "unary"};
  args.expect_count(4);
  const mm_unary_op op = op_arg(args);
  const mm_tensor* x = TensorHandle::From(args, 1, "x");
  const double p0 = args.number(2, "p0"), p1 = args.number(3, "p1");
  return wrap_new_tensor(args, [&](mm_tensor** out) { return mm_unary(op, x, p0, p1, out); });
}

// unaryBackward(op, x | null, y | null, grad, p0, p1)
Napi::Value UnaryBackward(const Napi::CallbackInfo& info) {
  ArgContext args{info, "unaryBackward"};
  args.expect_count(6);
  const mm_unary_op op = op_arg(args);
  const mm_tensor* x = optional_tensor(args, 1, "x");
  const mm_tensor* y = optional_tensor(args, 2, "y");
  const mm_tensor* grad = TensorHandle::From(args, 3, "grad");
  const double p0 = args.number(4, "p0"), p1 = args.number(5, "p1");
  return wrap_new_tensor(args, [&](mm_tensor** out) { return mm_unary_backward(op, x, y, grad, p0, p1, out); });
}

}  // namespace

MM_ADDON_EXPORT("unary", Unary);
MM_ADDON_EXPORT("unaryBackward", UnaryBackward);

}  // namespace mm_addon
