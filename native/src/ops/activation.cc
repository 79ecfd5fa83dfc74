// Activation family: argument checks and dispatch (kernels: cpu/activation.cc).
#include "mmcot/ops/activation.h"

#include <cmath>

#include "../cpu/activation.h"
#include "check.h"
#include "dispatch.h"
#include "tensor_util.h"
#if MM_WITH_CUDA
#include "../cuda/activation.h"
#endif

namespace mm {
namespace {

const char* activation_name(mm_activation_kind kind) {
  switch (kind) {
    case MM_ACT_SILU: return "silu";
    case MM_ACT_GELU: return "gelu";
    case MM_ACT_GELU_TANH: return "gelu(tanh)";
  }
  return nullptr;
}

// An f32 input and its same-shaped, same-device partner (a gradient, or SwiGLU's other half).
mm_status check_pair(const char* op, const char* arg_a, const mm_tensor* a, const char* arg_b, const mm_tensor* b) {
  MM_TRY(check_dtype(op, arg_a, a, MM_F32));
  MM_TRY(check_dtype(op, arg_b, b, MM_F32));
  MM_TRY(check_same_device(op, arg_a, a, arg_b, b));
  return check_same_shape(op, arg_a, a, arg_b, b);
}

mm_status new_like(const mm_tensor* like, mm_tensor** out) {
  return new_on_device_of(like, MM_F32, mm_tensor_ndim(like), mm_tensor_shape(like), out);
}

float* f32_out(mm_tensor* t) { return static_cast<float*>(mm_tensor_data(t)); }

// Splits t's shape around `axis` into [outer, len, inner].
mm_status softmax_layout(const char* op, const mm_tensor* t, int axis, int64_t* outer, int64_t* len, int64_t* inner) {
  MM_TRY(check_ndim(op, "x", t, 1, MM_MAX_DIMS));
  const int nd = mm_tensor_ndim(t);
  if (axis < -nd || axis >= nd) return fail(MM_ERR_ARG, "%s: 'axis' must be in [%d, %d] for a tensor with %d dimensions, got %d", op, -nd, nd - 1, nd, axis);
  if (axis < 0) axis += nd;
  *outer = *inner = 1;
  for (int i = 0; i < axis; i++) *outer *= mm_tensor_shape(t)[i];
  for (int i = axis + 1; i < nd; i++) *inner *= mm_tensor_shape(t)[i];
  *len = mm_tensor_shape(t)[axis];
  return MM_OK;
}

}  // namespace
}  // namespace mm

using mm::f32;

extern "C" mm_status mm_activation(mm_activation_kind kind, const mm_tensor* x, mm_tensor** out) {
  const char* op = mm::activation_name(kind);
  if (!op) return mm::fail(MM_ERR_ARG, "activation: unknown kind %d", static_cast<int>(kind));
  return mm::guarded(op, [&]() -> mm_status {
    MM_TRY(mm::check_dtype(op, "x", x, MM_F32));
    if (!out) return mm::fail(MM_ERR_ARG, "%s: 'out' is null", op);
    MM_TRY(mm::new_like(x, out));
    MM_DISPATCH(x, activation(kind, f32(x), mm_tensor_numel(x), mm::f32_out(*out)));
    return MM_OK;
  });
}

extern "C" mm_status mm_activation_backward(mm_activation_kind kind, const mm_tensor* x, const mm_tensor* dy, mm_tensor** dx) {
  const char* name = mm::activation_name(kind);
  if (!name) return mm::fail(MM_ERR_ARG, "activation backward: unknown kind %d", static_cast<int>(kind));
  return mm::guarded(name, [&]() -> mm_status {
    MM_TRY(mm::check_pair(name, "x", x, "dy", dy));
    if (!dx) return mm::fail(MM_ERR_ARG, "%s backward: 'dx' is null", name);
    MM_TRY(mm::new_like(x, dx));
    MM_DISPATCH(x, activation_backward(kind, f32(x), f32(dy), mm_tensor_numel(x), mm::f32_out(*dx)));
    return MM_OK;
  });
}

extern "C" mm_status mm_swiglu(const mm_tensor* gate, const mm_tensor* up, mm_tensor** out) {
  const char* op = "swiglu";
  return mm::guarded(op, [&]() -> mm_status {
    MM_TRY(mm::check_pair(op, "gate", gate, "up", up));
    if (!out) return mm::fail(MM_ERR_ARG, "%s: 'out' is null", op);
    MM_TRY(mm::new_like(gate, out));
    MM_DISPATCH(gate, swiglu(f32(gate), f32(up), mm_tensor_numel(gate), mm::f32_out(*out)));
    return MM_OK;
  });
}

extern "C" mm_status mm_swiglu_backward(const mm_tensor* gate, const mm_tensor* up, const mm_tensor* dy, mm_tensor** dgate,
                                        mm_tensor** dup) {
  const char* op = "swiglu backward";
  return mm::guarded(op, [&]() -> mm_status {
    MM_TRY(mm::check_pair(op, "gate", gate, "up", up));
    MM_TRY(mm::check_pair(op, "gate", gate, "dy", dy));
    mm::Outputs<2> o;
    MM_TRY(o.make(0, gate, mm_tensor_ndim(gate), mm_tensor_shape(gate), dgate));
    MM_TRY(o.make(1, gate, mm_tensor_ndim(gate), mm_tensor_shape(gate), dup));
    MM_DISPATCH(gate, swiglu_backward(f32(gate), f32(up), f32(dy), mm_tensor_numel(gate), o.data(0), o.data(1)));
    o.give(0, dgate);
    o.give(1, dup);
    return MM_OK;
  });
}

extern "C" mm_status mm_softmax(const mm_tensor* x, int axis, int log, mm_tensor** out) {
  const char* op = log ? "logSoftmax" : "softmax";
  return mm::guarded(op, [&]() -> mm_status {
    MM_TRY(mm::check_dtype(op, "x", x, MM_F32));
    int64_t outer = 0, len = 0, inner = 0;
    MM_TRY(mm::softmax_layout(op, x, axis, &outer, &len, &inner));
    if (!out) return mm::fail(MM_ERR_ARG, "%s: 'out' is null", op);
    MM_TRY(mm::new_like(x, out));
    MM_DISPATCH(x, softmax(f32(x), outer, len, inner, log != 0, mm::f32_out(*out)));
    return MM_OK;
  });
}

extern "C" mm_status mm_softmax_backward(const mm_tensor* y, const mm_tensor* dy, int axis, int log, mm_tensor** dx) {
  const char* op = log ? "logSoftmax backward" : "softmax backward";
  return mm::guarded(op, [&]() -> mm_status {
    MM_TRY(mm::check_pair(op, "y", y, "dy", dy));
    int64_t outer = 0, len = 0, inner = 0;
    MM_TRY(mm::softmax_layout(op, y, axis, &outer, &len, &inner));
    if (!dx) return mm::fail(MM_ERR_ARG, "%s: 'dx' is null", op);
    MM_TRY(mm::new_like(y, dx));
    MM_DISPATCH(y, softmax_backward(f32(y), f32(dy), outer, len, inner, log != 0, mm::f32_out(*dx)));
    return MM_OK;
  });
}

extern "C" mm_status mm_rope(const mm_tensor* x, const mm_tensor* positions, double base, int inverse, mm_tensor** out) {
  const char* op = "rope";
  return mm::guarded(op, [&]() -> mm_status {
    MM_TRY(mm::check_dtype(op, "x", x, MM_F32));
    MM_TRY(mm::check_ndim(op, "x", x, 2, MM_MAX_DIMS));
    MM_TRY(mm::check_dtype(op, "positions", positions, MM_I32));
    MM_TRY(mm::check_same_device(op, "x", x, "positions", positions));
    const int nd = mm_tensor_ndim(x);
    const int64_t* xs = mm_tensor_shape(x);
    const int64_t t = xs[nd - 2], d = xs[nd - 1];
    char sx[256], sp[256];
    mm::format_shape(sx, sizeof sx, nd, xs);
    if (d % 2 != 0) return mm::fail(MM_ERR_SHAPE, "%s: the last dimension of 'x' (head dim) must be even, got shape %s", op, sx);
    if (!(base > 0) || !std::isfinite(base)) return mm::fail(MM_ERR_ARG, "%s: 'base' must be a finite number > 0, got %g", op, base);
    const int pd = mm_tensor_ndim(positions);
    const int64_t* ps = mm_tensor_shape(positions);
    const bool per_batch = pd == 2;
    const bool fits = (pd == 1 && ps[0] == t) || (pd == 2 && nd >= 3 && ps[0] == xs[0] && ps[1] == t);
    if (!fits) {
      return mm::fail(MM_ERR_SHAPE, "%s: 'positions' has shape %s but must be [T] or [B, T] for 'x' [B, ..., T, D]; 'x' has shape %s", op,
                      mm::format_shape(sp, sizeof sp, pd, ps), sx);
    }
    if (!out) return mm::fail(MM_ERR_ARG, "%s: 'out' is null", op);
    MM_TRY(mm::new_like(x, out));
    int64_t rows = 1;
    for (int i = 0; i + 1 < nd; i++) rows *= xs[i];
    const int64_t batches = per_batch ? xs[0] : 1;
    MM_DISPATCH(x, rope(f32(x), static_cast<const int32_t*>(mm_tensor_data_const(positions)), per_batch, batches,
                        batches ? rows / batches : 0, t, d, base, inverse != 0, mm::f32_out(*out)));
    return MM_OK;
  });
}

extern "C" mm_status mm_dropout(const mm_tensor* x, double p, uint64_t seed, uint64_t offset, mm_tensor** out) {
  const char* op = "dropout";
  return mm::guarded(op, [&]() -> mm_status {
    MM_TRY(mm::check_dtype(op, "x", x, MM_F32));
    if (!(p >= 0 && p < 1)) return mm::fail(MM_ERR_ARG, "%s: 'p' must be in [0, 1), got %g", op, p);
    if (!out) return mm::fail(MM_ERR_ARG, "%s: 'out' is null", op);
    MM_TRY(mm::new_like(x, out));
    MM_DISPATCH(x, dropout(f32(x), mm_tensor_numel(x), p, seed, offset, mm::f32_out(*out)));
    return MM_OK;
  });
}
