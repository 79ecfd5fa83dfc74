// Addon functions of the activation family, and rngReserve (the counters a dropout mask uses).
#include <limits>

#include "mmcot/ops.h"
#include "op_args.h"
#include "op_outputs.h"
#include "registry.h"

namespace mm_addon {
namespace {

// activation(kind, x) with kind 0 silu, 1 gelu, 2 gelu (tanh)
Napi::Value Activation(const Napi::CallbackInfo& info) {
  ArgContext args{info, "activation"};
  args.expect_count(2);
  const auto kind = static_cast<mm_activation_kind>(args.integer(0, "kind", MM_ACT_SILU, MM_ACT_GELU_TANH));
  const mm_tensor* x = TensorHandle::From(args, 1, "x");
  return wrap_new_tensor(args, [&](mm_tensor** out) { return mm_activation(kind, x, out); });
}

// activationBackward(kind, x, dy) -> dx
Napi::Value ActivationBackward(const Napi::CallbackInfo& info) {
  ArgContext args{info, "activationBackward"};
  args.expect_count(3);
  const auto kind = static_cast<mm_activation_kind>(args.integer(0, "kind", MM_ACT_SILU, MM_ACT_GELU_TANH));
  const mm_tensor* x = TensorHandle::From(args, 1, "x");
  const mm_tensor* dy = TensorHandle::From(args, 2, "dy");
  return wrap_new_tensor(args, [&](mm_tensor** out) { return mm_activation_backward(kind, x, dy, out); });
}

Napi::Value Swiglu(const Napi::CallbackInfo& info) {
  ArgContext args{info, "swiglu"};
  args.expect_count(2);
  const mm_tensor* gate = TensorHandle::From(args, 0, "gate");
  const mm_tensor* up = TensorHandle::From(args, 1, "up");
  return wrap_new_tensor(args, [&](mm_tensor** out) { return mm_swiglu(gate, up, out); });
}

// swigluBackward(gate, up, dy, needDgate, needDup) -> [dgate | null, dup | null]
Napi::Value SwigluBackward(const Napi::CallbackInfo& info) {
  ArgContext args{info, "swigluBackward"};
  args.expect_count(5);
  const mm_tensor* gate = TensorHandle::From(args, 0, "gate");
  const mm_tensor* up = TensorHandle::From(args, 1, "up");
  const mm_tensor* dy = TensorHandle::From(args, 2, "dy");
  const std::array<bool, 2> need = {optional_bool(args, 3, "needDgate", true), optional_bool(args, 4, "needDup", true)};
  return wrap_new_tensors<2>(args, need, [&](mm_tensor** const* o) { return mm_swiglu_backward(gate, up, dy, o[0], o[1]); });
}

// softmax(x, axis, log)
Napi::Value Softmax(const Napi::CallbackInfo& info) {
  ArgContext args{info, "softmax"};
  args.expect_count(3);
  const mm_tensor* x = TensorHandle::From(args, 0, "x");
  const int axis = static_cast<int>(args.integer(1, "axis", -MM_MAX_DIMS, MM_MAX_DIMS - 1));
  const bool log = optional_bool(args, 2, "log", false);
  return wrap_new_tensor(args, [&](mm_tensor** out) { return mm_softmax(x, axis, log, out); });
}

// softmaxBackward(y, dy, axis, log) -> dx
Napi::Value SoftmaxBackward(const Napi::CallbackInfo& info) {
  ArgContext args{info, "softmaxBackward"};
  args.expect_count(4);
  const mm_tensor* y = TensorHandle::From(args, 0, "y");
  const mm_tensor* dy = TensorHandle::From(args, 1, "dy");
  const int axis = static_cast<int>(args.integer(2, "axis", -MM_MAX_DIMS, MM_MAX_DIMS - 1));
  const bool log = optional_bool(args, 3, "log", false);
  return wrap_new_tensor(args, [&](mm_tensor** out) { return mm_softmax_backward(y, dy, axis, log, out); });
}

// rope(x, positions, base, inverse)
Napi::Value Rope(const Napi::CallbackInfo& info) {
  ArgContext args{info, "rope"};
  args.expect_count(4);
  const mm_tensor* x = TensorHandle::From(args, 0, "x");
  const mm_tensor* positions = TensorHandle::From(args, 1, "positions");
  const double base = args.number(2, "base");
  const bool inverse = optional_bool(args, 3, "inverse", false);
  return wrap_new_tensor(args, [&](mm_tensor** out) { return mm_rope(x, positions, base, inverse, out); });
}

// dropout(x, p, seed, offset): (seed, offset) from rngReserve(numel)
Napi::Value Dropout(const Napi::CallbackInfo& info) {
  ArgContext args{info, "dropout"};
  args.expect_count(4);
  const mm_tensor* x = TensorHandle::From(args, 0, "x");
  const double p = args.number(1, "p");
  const uint64_t seed = args.u64(2, "seed"), offset = args.u64(3, "offset");
  return wrap_new_tensor(args, [&](mm_tensor** out) { return mm_dropout(x, p, seed, offset, out); });
}

// rngReserve(n) -> { seed, offset }: the global stream's counters for n values, now used up.
Napi::Value RngReserve(const Napi::CallbackInfo& info) {
  ArgContext args{info, "rngReserve"};
  args.expect_count(1);
  const int64_t n = args.integer(0, "n", 0, 9007199254740991LL);
  uint64_t seed = 0, offset = 0;
  check(args.env(), mm_rng_reserve(n, &seed, &offset));
  Napi::Object out = Napi::Object::New(args.env());
  out.Set("seed", Napi::BigInt::New(args.env(), seed));
  out.Set("offset", Napi::BigInt::New(args.env(), offset));
  return out;
}

}  // namespace

MM_ADDON_EXPORT("activation", Activation);
MM_ADDON_EXPORT("activationBackward", ActivationBackward);
MM_ADDON_EXPORT("swiglu", Swiglu);
MM_ADDON_EXPORT("swigluBackward", SwigluBackward);
MM_ADDON_EXPORT("softmax", Softmax);
MM_ADDON_EXPORT("softmaxBackward", SoftmaxBackward);
MM_ADDON_EXPORT("rope", Rope);
MM_ADDON_EXPORT("dropout", Dropout);
MM_ADDON_EXPORT("rngReserve", RngReserve);

}  // namespace mm_addon
