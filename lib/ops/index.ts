// mm.ops: functional ops (forward on the native backend, gradients recorded for autograd).
// One line per op family.
export { add, sub, mul, div, sumTo } from './elementwise.ts';
export { reshape } from './shape.ts';
export { attention, attentionWithLse, prefixLmMask, attentionKernel, type AttentionOptions } from './attention.ts';
