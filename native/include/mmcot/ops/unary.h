/* Unary elementwise ops on f32, including the ones with scalar parameters (p0, p1). */
#ifndef MMCOT_OPS_UNARY_H
#define MMCOT_OPS_UNARY_H
#include "../mmcot.h"
#ifdef __cplusplus
extern "C" {
#endif

typedef enum mm_unary_op {
  MM_UNARY_NEG = 0,
  MM_UNARY_EXP,
  MM_UNARY_LOG,
  MM_UNARY_SQRT,
  MM_UNARY_RSQRT,
  MM_UNARY_TANH,
  MM_UNARY_SIGMOID,
  MM_UNARY_RELU,
  MM_UNARY_ABS,
  MM_UNARY_SQUARE,
  MM_UNARY_AFFINE, /* p0 * x + p1 */
  MM_UNARY_POW,    /* x ^ p0 */
  MM_UNARY_CLAMP   /* min(max(x, p0), p1); needs p0 <= p1 (may be infinite); NaN stays NaN */
} mm_unary_op;
#define MM_UNARY_OP_COUNT 13

/* out = op(x); p0/p1 are read only by the ops that take parameters (finite, but for clamp). */
mm_status mm_unary(mm_unary_op op, const mm_tensor* x, double p0, double p1, mm_tensor** out);
/* out = grad * op'(x). The rule reads x for LOG, ABS, SQUARE, POW and CLAMP, the forward output
 * y for EXP, SQRT, RSQRT, TANH, SIGMOID and RELU, and neither for NEG and AFFINE; the tensor it
 * does not read may be NULL. Gradients at kinks: relu 0, abs 0, clamp passes where lo<=x<=hi. */
mm_status mm_unary_backward(mm_unary_op op, const mm_tensor* x, const mm_tensor* y, const mm_tensor* grad, double p0, double p1,
                            mm_tensor** out);
/* The name of op ("exp", ...), or "unknown". */
const char* mm_unary_name(mm_unary_op op);

#ifdef __cplusplus
}
#endif
#endif
