// mm.ops: functional ops (forward on the native backend, gradients recorded for autograd).
// One line per op family.
export { add, sub, mul, div, sumTo } from './elementwise.ts';
export { reshape } from './shape.ts';
export { matmul, linear, gemmInto, gemmKernel, type MatmulOptions, type GemmKernel } from './linalg.ts';
