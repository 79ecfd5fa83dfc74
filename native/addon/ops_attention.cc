// Addon functions of the attention family.
#include <string>

#include "mmcot/ops.h"
#include "op_args.h"
#include "registry.h"

namespace mm_addon {
namespace {

// Arguments (causal, mask, scale, kvLength) starting at `first`, shared by forward and backward.
mm_attention_options read_options(const ArgContext& args, size_t first) {
  mm_attention_options o{};
  o.causal = optional_bool(args, first, "causal", false) ? 1 : 0;
  o.mask = optional_tensor(args, first + 1, "mask");
  o.scale = static_cast<float>(args.finite(first + 2, "scale", -3.0e38, 3.0e38));
  o.kv_length = args.integer(first + 3, "kvLength", 0, INT64_C(1) << 40);
  return o;
}

// Wraps several new tensors into a JS array of handles (the ones not yet wrapped are freed if
// wrapping fails part way).
Napi::Value wrap_tensors(const ArgContext& args, mm_tensor** tensors, size_t count) {
  Napi::Array array;
  size_t i = 0;
  try {
    array = Napi::Array::New(args.env(), count);
    for (; i < count; i++) {
      mm_tensor* t = tensors[i];
      tensors[i] = nullptr;
      array.Set(static_cast<uint32_t>(i), TensorHandle::Wrap(args.env(), t));
    }
  } catch (...) {
    for (; i < count; i++) mm_tensor_free(tensors[i]);
    throw;
  }
  return array;
}

Napi::Value AttentionForward(const Napi::CallbackInfo& info) {
  ArgContext args{info, "attention"};
  args.expect_count(7);
  const mm_tensor* q = TensorHandle::From(args, 0, "q");
  const mm_tensor* k = TensorHandle::From(args, 1, "k");
  const mm_tensor* v = TensorHandle::From(args, 2, "v");
  const mm_attention_options o = read_options(args, 3);
  mm_tensor* outs[2] = {nullptr, nullptr};
  check(args.env(), mm_attention_forward(q, k, v, &o, &outs[0], &outs[1]));
  return wrap_tensors(args, outs, 2);
}

Napi::Value AttentionBackward(const Napi::CallbackInfo& info) {
  ArgContext args{info, "attentionBackward"};
  args.expect_count(10);
  const mm_tensor* dout = TensorHandle::From(args, 0, "dout");
  const mm_tensor* q = TensorHandle::From(args, 1, "q");
  const mm_tensor* k = TensorHandle::From(args, 2, "k");
  const mm_tensor* v = TensorHandle::From(args, 3, "v");
  const mm_tensor* out = TensorHandle::From(args, 4, "out");
  const mm_tensor* lse = TensorHandle::From(args, 5, "lse");
  const mm_attention_options o = read_options(args, 6);
  mm_tensor* grads[3] = {nullptr, nullptr, nullptr};
  check(args.env(), mm_attention_backward(dout, q, k, v, out, lse, &o, &grads[0], &grads[1], &grads[2]));
  return wrap_tensors(args, grads, 3);
}

// attentionKernel() -> the CPU kernel set in use; attentionKernel(name) selects one first.
Napi::Value AttentionKernel(const Napi::CallbackInfo& info) {
  ArgContext args{info, "attentionKernel"};
  const Napi::Value name = args.at(0);
  if (!name.IsUndefined()) {
    if (!name.IsString()) throw_type_error(args.env(), "ERR_ARG", args.prefix("name") + " must be a string");
    check(args.env(), mm_attention_set_kernel(name.As<Napi::String>().Utf8Value().c_str()));
  }
  return Napi::String::New(args.env(), mm_attention_kernel());
}

}  // namespace

MM_ADDON_EXPORT("attentionForward", AttentionForward);
MM_ADDON_EXPORT("attentionBackward", AttentionBackward);
MM_ADDON_EXPORT("attentionKernel", AttentionKernel);

}  // namespace mm_addon
