/* mmcot ops: one header per op family, each a C-style API on mm_tensor (see mmcot.h for the
 * rules: statuses, never abort). Ops allocate their outputs on the inputs' device. */
#ifndef MMCOT_OPS_H
#define MMCOT_OPS_H
#include "mmcot.h"
#include "ops/elementwise.h"
#include "ops/gemm.h"
#endif
