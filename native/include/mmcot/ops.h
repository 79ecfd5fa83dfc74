/* mmcot ops: one header per op family, each a C-style API on mm_tensor (see mmcot.h for the
 * rules: statuses, never abort). Ops allocate their outputs on the inputs' device. */
#ifndef MMCOT_OPS_H
#define MMCOT_OPS_H
#include "mmcot.h"
#include "ops/elementwise.h"
/* ---- shape family: shape, unary, reduce, embedding ---- */
#include "ops/shape.h"
#include "ops/unary.h"
#include "ops/reduce.h"
#include "ops/embedding.h"
/* ---- end shape family ---- */
#include "ops/norm.h"
#include "ops/activation.h"
/* ---- training: loss, diffusion, optim, sampling (branch ops-train) ---- */
#include "ops/loss.h"
#include "ops/diffusion.h"
#include "ops/optim.h"
#include "ops/sampling.h"
/* ---- end training ---- */
#include "ops/attention.h"
#include "ops/gemm.h"
#endif
