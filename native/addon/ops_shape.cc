// Addon functions of the shape family (copies: permute, concat, slice, pad, indexSelect).
#include <climits>
#include <cmath>
#include <string>
#include <vector>

#include "mmcot/ops.h"
#include "op_args.h"
#include "registry.h"

namespace mm_addon {
namespace {

// An array of at most MM_MAX_DIMS integers (may be negative: the core says what is valid).
std::vector<int> int_list(const ArgContext& args, size_t index, const char* arg) {
  const Napi::Value v = args.at(index);
  if (!v.IsArray()) throw_type_error(args.env(), "ERR_ARG", args.prefix(arg) + " must be an array of integers");
  const Napi::Array array = v.As<Napi::Array>();
  if (array.Length() > MM_MAX_DIMS) {
    throw_range_error(args.env(), "ERR_ARG", args.prefix(arg) + " has " + std::to_string(array.Length()) + " entries; at most " +
                                                 std::to_string(MM_MAX_DIMS) + " are supported");
  }
  std::vector<int> out(array.Length());
  for (uint32_t i = 0; i < array.Length(); i++) {
    const Napi::Value d = array.Get(i);
    const double x = d.IsNumber() ? d.As<Napi::Number>().DoubleValue() : 0.5;
    if (!(x >= INT32_MIN && x <= INT32_MAX) || std::floor(x) != x) {
      throw_type_error(args.env(), "ERR_ARG", args.prefix(arg) + " must hold integers; entry " + std::to_string(i) + " is not one");
    }
    out[i] = static_cast<int>(x);
  }
  return out;
}

int axis_arg(const ArgContext& args, size_t index) { return static_cast<int>(args.integer(index, "axis", INT32_MIN, INT32_MAX)); }

Napi::Value Permute(const Napi::CallbackInfo& info) {
  ArgContext args{info, "permute"};
  args.expect_count(2);
  const mm_tensor* x = TensorHandle::From(args, 0, "x");
  const std::vector<int> dims = int_list(args, 1, "dims");
  return wrap_new_tensor(args, [&](mm_tensor** out) { return mm_permute(x, static_cast<int>(dims.size()), dims.data(), out); });
}

// concat(axis, ...tensors): the tensors are separate arguments so each is named in errors.
Napi::Value Concat(const Napi::CallbackInfo& info) {
  ArgContext args{info, "concat"};
  args.expect_count(2);
  const int axis = axis_arg(args, 0);
  std::vector<const mm_tensor*> tensors;
  for (size_t i = 1; i < info.Length(); i++) {
    const std::string name = "tensors[" + std::to_string(i - 1) + "]";
    tensors.push_back(TensorHandle::From(args, i, name.c_str()));
  }
  return wrap_new_tensor(args, [&](mm_tensor** out) { return mm_concat(static_cast<int>(tensors.size()), tensors.data(), axis, out); });
}

Napi::Value Slice(const Napi::CallbackInfo& info) {
  ArgContext args{info, "slice"};
  args.expect_count(4);
  const mm_tensor* x = TensorHandle::From(args, 0, "x");
  const int axis = axis_arg(args, 1);
  const int64_t start = args.integer(2, "start", -9007199254740991LL, 9007199254740991LL);
  const int64_t end = args.integer(3, "end", -9007199254740991LL, 9007199254740991LL);
  return wrap_new_tensor(args, [&](mm_tensor** out) { return mm_slice(x, axis, start, end, out); });
}

Napi::Value Pad(const Napi::CallbackInfo& info) {
  ArgContext args{info, "pad"};
  args.expect_count(5);
  const mm_tensor* x = TensorHandle::From(args, 0, "x");
  const int axis = axis_arg(args, 1);
  const int64_t before = args.integer(2, "before", 0, 9007199254740991LL);
  const int64_t after = args.integer(3, "after", 0, 9007199254740991LL);
  const double value = args.finite(4, "value", -3.4028234663852886e38, 3.4028234663852886e38);
  return wrap_new_tensor(args, [&](mm_tensor** out) { return mm_pad(x, axis, before, after, value, out); });
}

Napi::Value IndexSelect(const Napi::CallbackInfo& info) {
  ArgContext args{info, "indexSelect"};
  args.expect_count(3);
  const mm_tensor* x = TensorHandle::From(args, 0, "x");
  const int axis = axis_arg(args, 1);
  const mm_tensor* indices = TensorHandle::From(args, 2, "indices");
  return wrap_new_tensor(args, [&](mm_tensor** out) { return mm_index_select(x, axis, indices, out); });
}

Napi::Value IndexSelectBackward(const Napi::CallbackInfo& info) {
  ArgContext args{info, "indexSelectBackward"};
  args.expect_count(4);
  const mm_tensor* grad = TensorHandle::From(args, 0, "grad");
  const int axis = axis_arg(args, 1);
  const mm_tensor* indices = TensorHandle::From(args, 2, "indices");
  const int64_t size = args.integer(3, "size", 0, 9007199254740991LL);
  return wrap_new_tensor(args, [&](mm_tensor** out) { return mm_index_select_backward(grad, axis, indices, size, out); });
}

// sliceAssign(dst, src, axis, start): writes src into dst in place; returns nothing.
Napi::Value SliceAssign(const Napi::CallbackInfo& info) {
  ArgContext args{info, "sliceAssign"};
  args.expect_count(4);
  mm_tensor* dst = TensorHandle::From(args, 0, "dst");
  const mm_tensor* src = TensorHandle::From(args, 1, "src");
  const int axis = axis_arg(args, 2);
  const int64_t start = args.integer(3, "start", 0, 9007199254740991LL);
  check(args.env(), mm_slice_assign(dst, src, axis, start));
  return info.Env().Undefined();
}

}  // namespace

MM_ADDON_EXPORT("sliceAssign", SliceAssign);
MM_ADDON_EXPORT("permute", Permute);
MM_ADDON_EXPORT("concat", Concat);
MM_ADDON_EXPORT("slice", Slice);
MM_ADDON_EXPORT("pad", Pad);
MM_ADDON_EXPORT("indexSelect", IndexSelect);
MM_ADDON_EXPORT("indexSelectBackward", IndexSelectBackward);

}  // namespace mm_addon
