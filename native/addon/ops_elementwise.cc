// Addon functions of the elementwise family.
#include "mmcot/ops.h"
#include "op_args.h"
#include "registry.h"

namespace mm_addon {
namespace {

Napi::Value Binary(const Napi::CallbackInfo& info) {
  ArgContext args{info, "binary"};
  args.expect_count(3);
  const auto op = static_cast<mm_binary_op>(args.integer(0, "op", MM_BINARY_ADD, MM_BINARY_DIV));
  const mm_tensor* a = TensorHandle::From(args, 1, "a");
  const mm_tensor* b = TensorHandle::From(args, 2, "b");
  return wrap_new_tensor(args, [&](mm_tensor** out) { return mm_binary(op, a, b, out); });
}

Napi::Value SumTo(const Napi::CallbackInfo& info) {
  ArgContext args{info, "sumTo"};
  args.expect_count(2);
  const mm_tensor* t = TensorHandle::From(args, 0, "t");
  const std::vector<int64_t> shape = args.shape(1, "shape");
  return wrap_new_tensor(args, [&](mm_tensor** out) { return mm_sum_to(t, static_cast<int>(shape.size()), shape.data(), out); });
}

}  // namespace

MM_ADDON_EXPORT("binary", Binary);
MM_ADDON_EXPORT("sumTo", SumTo);

}  // namespace mm_addon
