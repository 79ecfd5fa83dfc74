// Addon functions of the normalisation family. Ops with saved statistics or several gradients
// return arrays (null where a slot was not asked for).
#include <limits>

#include "mmcot/ops.h"
#include "op_args.h"
#include "op_outputs.h"
#include "registry.h"

namespace mm_addon {
namespace {

constexpr double kMaxDouble = std::numeric_limits<double>::max();

// rmsNorm(x, weight, eps, saveStats) -> [out, rstd | null]
Napi::Value RmsNorm(const Napi::CallbackInfo& info) {
  ArgContext args{info, "rmsNorm"};
  args.expect_count(4);
  const mm_tensor* x = TensorHandle::From(args, 0, "x");
  const mm_tensor* weight = TensorHandle::From(args, 1, "weight");
  const double eps = args.finite(2, "eps", 0, kMaxDouble);
  const bool save = optional_bool(args, 3, "saveStats", false);
  return wrap_new_tensors<2>(args, {true, save}, [&](mm_tensor** const* o) { return mm_rms_norm(x, weight, eps, o[0], o[1]); });
}

// rmsNormBackward(dy, x, weight, rstd, needDx, needDweight) -> [dx | null, dweight | null]
Napi::Value RmsNormBackward(const Napi::CallbackInfo& info) {
  ArgContext args{info, "rmsNormBackward"};
  args.expect_count(6);
  const mm_tensor* dy = TensorHandle::From(args, 0, "dy");
  const mm_tensor* x = TensorHandle::From(args, 1, "x");
  const mm_tensor* weight = TensorHandle::From(args, 2, "weight");
  const mm_tensor* rstd = TensorHandle::From(args, 3, "rstd");
  const bool need_dx = optional_bool(args, 4, "needDx", true), need_dw = optional_bool(args, 5, "needDweight", true);
  return wrap_new_tensors<2>(args, {need_dx, need_dw},
                             [&](mm_tensor** const* o) { return mm_rms_norm_backward(dy, x, weight, rstd, o[0], o[1]); });
}

// layerNorm(x, weight | null, bias | null, eps, saveStats) -> [out, rstd | null]
Napi::Value LayerNorm(const Napi::CallbackInfo& info) {
  ArgContext args{info, "layerNorm"};
  args.expect_count(5);
  const mm_tensor* x = TensorHandle::From(args, 0, "x");
  const mm_tensor* weight = optional_tensor(args, 1, "weight");
  const mm_tensor* bias = optional_tensor(args, 2, "bias");
  const double eps = args.finite(3, "eps", 0, kMaxDouble);
  const bool save = optional_bool(args, 4, "saveStats", false);
  return wrap_new_tensors<2>(args, {true, save}, [&](mm_tensor** const* o) { return mm_layer_norm(x, weight, bias, eps, o[0], o[1]); });
}

// layerNormBackward(dy, x, weight | null, rstd, needDx, needDweight, needDbias) -> [dx, dweight, dbias] (nulls)
Napi::Value LayerNormBackward(const Napi::CallbackInfo& info) {
  ArgContext args{info, "layerNormBackward"};
  args.expect_count(7);
  const mm_tensor* dy = TensorHandle::From(args, 0, "dy");
  const mm_tensor* x = TensorHandle::From(args, 1, "x");
  const mm_tensor* weight = optional_tensor(args, 2, "weight");
  const mm_tensor* rstd = TensorHandle::From(args, 3, "rstd");
  const std::array<bool, 3> need = {optional_bool(args, 4, "needDx", true), optional_bool(args, 5, "needDweight", true),
                                    optional_bool(args, 6, "needDbias", true)};
  return wrap_new_tensors<3>(args, need,
                             [&](mm_tensor** const* o) { return mm_layer_norm_backward(dy, x, weight, rstd, o[0], o[1], o[2]); });
}

// modulate(x, shift, scale) -> out
Napi::Value Modulate(const Napi::CallbackInfo& info) {
  ArgContext args{info, "modulate"};
  args.expect_count(3);
  const mm_tensor* x = TensorHandle::From(args, 0, "x");
  const mm_tensor* shift = TensorHandle::From(args, 1, "shift");
  const mm_tensor* scale = TensorHandle::From(args, 2, "scale");
  return wrap_new_tensor(args, [&](mm_tensor** out) { return mm_modulate(x, shift, scale, out); });
}

// modulateBackward(dy, x, scale, needDx, needDshift, needDscale) -> [dx, dshift, dscale] (nulls)
Napi::Value ModulateBackward(const Napi::CallbackInfo& info) {
  ArgContext args{info, "modulateBackward"};
  args.expect_count(6);
  const mm_tensor* dy = TensorHandle::From(args, 0, "dy");
  const mm_tensor* x = TensorHandle::From(args, 1, "x");
  const mm_tensor* scale = TensorHandle::From(args, 2, "scale");
  const std::array<bool, 3> need = {optional_bool(args, 3, "needDx", true), optional_bool(args, 4, "needDshift", true),
                                    optional_bool(args, 5, "needDscale", true)};
  return wrap_new_tensors<3>(args, need, [&](mm_tensor** const* o) { return mm_modulate_backward(dy, x, scale, o[0], o[1], o[2]); });
}

}  // namespace

MM_ADDON_EXPORT("rmsNorm", RmsNorm);
MM_ADDON_EXPORT("rmsNormBackward", RmsNormBackward);
MM_ADDON_EXPORT("layerNorm", LayerNorm);
MM_ADDON_EXPORT("layerNormBackward", LayerNormBackward);
MM_ADDON_EXPORT("modulate", Modulate);
MM_ADDON_EXPORT("modulateBackward", ModulateBackward);

}  // namespace mm_addon
