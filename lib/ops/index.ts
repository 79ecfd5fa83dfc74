// mm.ops: functional ops (forward on the native backend, gradients recorded for autograd).
// One line per op family.
export { add, sub, mul, div, sumTo, type Operand } from './elementwise.ts';
export { reshape, permute, transpose, concat, slice, sliceAssign, pad, indexSelect, split, chunk } from './shape.ts';
export { neg, exp, log, sqrt, rsqrt, tanh, sigmoid, relu, abs, square, scale, addScalar, powScalar, clamp } from './unary.ts';
export { sum, mean, max, argmax, sumOfSquares, type ReduceOptions } from './reduce.ts';
export { embedding } from './embedding.ts';
export { rmsNorm, layerNorm, modulate, gate } from './norm.ts';
export { silu, gelu, swiglu, softmax, logSoftmax, rope, dropout, type GeluOptions, type RopeOptions, type DropoutOptions } from './activation.ts';
export { crossEntropy, tokenLogProbs, mseLoss, cosineDistance, type Reduction, type CrossEntropyOptions, type CosineDistanceOptions } from './loss.ts';
export { attention, attentionWithLse, prefixLmMask, attentionKernel, type AttentionOptions, type CpuAttentionKernel, type CudaAttentionKernel } from './attention.ts';
export { matmul, linear, gemmInto, gemmKernel, cudaGemmKernel, type MatmulOptions, type GemmKernel, type CudaGemmKernel } from './linalg.ts';
