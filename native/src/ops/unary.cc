// Unary family: argument checks and dispatch (kernels: cpu/unary.cc).
#include "mmcot/ops/unary.h"

#include <cmath>

#include "../cpu/unary.h"
#include "check.h"
#include "dispatch.h"
#if MM_WITH_CUDA
#include "../cuda/unary.h"
#endif

namespace {

const char* const kNames[MM_UNARY_OP_COUNT] = {"neg", "exp", "log", "sqrt", "rsqrt", "tanh", "sigmoid",
                                                "relu", "abs", "square", "affine", "pow", "clamp"};

bool valid_op(mm_unary_op op) { return op >= 0 && op < MM_UNARY_OP_COUNT; }

// What the backward rule reads (see mm_unary_backward).
bool backward_reads_x(mm_unary_op op) {
  return op == MM_UNARY_LOG || op == MM_UNARY_ABS || op == MM_UNARY_SQUARE || op == MM_UNARY_POW || op == MM_UNARY_CLAMP;
}
bool backward_reads_y(mm_unary_op op) {
  return op == MM_UNARY_EXP || op == MM_UNARY_SQRT || op == MM_UNARY_RSQRT || op == MM_UNARY_TANH || op == MM_UNARY_SIGMOID || op == MM_UNARY_RELU;
}

// Parameters must be finite f32 values, except clamp bounds, which may be infinite (one-sided
// clamps) but not NaN, and need lo <= hi.
mm_status check_params(const char* name, mm_unary_op op, double p0, double p1) {
  if (op == MM_UNARY_CLAMP) {
    if (std::isnan(p0) || std::isnan(p1) || p0 > p1) return mm::fail(MM_ERR_ARG, "clamp: needs lo <= hi (not NaN), got lo %g and hi %g", p0, p1);
    return MM_OK;
  }
  const bool uses_p0 = op == MM_UNARY_AFFINE || op == MM_UNARY_POW;
  const bool uses_p1 = op == MM_UNARY_AFFINE;
  const double limit = 3.4028234663852886e38;
  if ((uses_p0 && !(std::fabs(p0) <= limit)) || (uses_p1 && !(std::fabs(p1) <= limit))) {
    return mm::fail(MM_ERR_ARG, "%s: parameters must be finite f32 numbers, got %g and %g", name, p0, p1);
  }
  return MM_OK;
}

}  // namespace

extern "C" const char* mm_unary_name(mm_unary_op op) { return valid_op(op) ? kNames[op] : "unknown"; }

extern "C" mm_status mm_unary(mm_unary_op op, const mm_tensor* x, double p0, double p1, mm_tensor** out) {
  if (!valid_op(op)) return mm::fail(MM_ERR_ARG, "unary: unknown op %d", static_cast<int>(op));
  const char* name = kNames[op];
  return mm::guarded(name, [&]() -> mm_status {
    MM_TRY(mm::check_dtype(name, "x", x, MM_F32));
    MM_TRY(check_params(name, op, p0, p1));
    MM_TRY(mm::new_on_device_of(x, MM_F32, mm_tensor_ndim(x), mm_tensor_shape(x), out));
    MM_DISPATCH(x, unary(op, static_cast<const float*>(mm_tensor_data_const(x)), static_cast<float*>(mm_tensor_data(*out)), mm_tensor_numel(x),
                         static_cast<float>(p0), static_cast<float>(p1)));
    return MM_OK;
  });
}

extern "C" mm_status mm_unary_backward(mm_unary_op op, const mm_tensor* x, const mm_tensor* y, const mm_tensor* grad, double p0, double p1,
                                       mm_tensor** out) {
  if (!valid_op(op)) return mm::fail(MM_ERR_ARG, "unaryBackward: unknown op %d", static_cast<int>(op));
  const char* name = kNames[op];
  return mm::guarded(name, [&]() -> mm_status {
    MM_TRY(mm::check_dtype(name, "grad", grad, MM_F32));
    MM_TRY(check_params(name, op, p0, p1));
    // The operand the rule reads must be there, shaped like grad.
    const bool reads_x = backward_reads_x(op), reads_y = backward_reads_y(op);
    const mm_tensor* operand = reads_x ? x : (reads_y ? y : nullptr);
    const char* operand_name = reads_x ? "x" : "y";
    if (operand) {
      MM_TRY(mm::check_dtype(name, operand_name, operand, MM_F32));
      MM_TRY(mm::check_same_device(name, "grad", grad, operand_name, operand));
      MM_TRY(mm::check_same_shape(name, "grad", grad, operand_name, operand));
    } else if (reads_x || reads_y) {
      return mm::fail(MM_ERR_ARG, "%s backward: needs the forward %s, got null", name, reads_x ? "input x" : "output y");
    }
    MM_TRY(mm::new_on_device_of(grad, MM_F32, mm_tensor_ndim(grad), mm_tensor_shape(grad), out));
    const float* data = operand ? static_cast<const float*>(mm_tensor_data_const(operand)) : nullptr;
    MM_DISPATCH(grad, unary_backward(op, reads_x ? data : nullptr, reads_y ? data : nullptr, static_cast<const float*>(mm_tensor_data_const(grad)),
                                     static_cast<float*>(mm_tensor_data(*out)), mm_tensor_numel(grad), static_cast<float>(p0), static_cast<float>(p1)));
    return MM_OK;
  });
}
