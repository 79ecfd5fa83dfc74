// mm.ops: functional ops (forward on the native backend, gradients recorded for autograd).
// One line per op family.
export { add, sub, mul, div, sumTo } from './elementwise.ts';
export { reshape } from './shape.ts';
export { rmsNorm, layerNorm, modulate, gate } from './norm.ts';
export { silu, gelu, swiglu, softmax, logSoftmax, rope, dropout, type GeluOptions, type RopeOptions, type DropoutOptions } from './activation.ts';
