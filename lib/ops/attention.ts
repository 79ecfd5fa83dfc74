// Fused scaled-dot-product attention and its gradient (native: ops/attention.cc; on the CPU a
// flash-style kernel: online softmax over blocks of keys, never a [Tq, Tk] score matrix).
import { record } from '../autograd.ts';
import { argError } from '../errors.ts';
import { native } from '../native.ts';
import { Tensor, type Device } from '../tensor.ts';

export interface AttentionOptions {
  /** Query i sees keys j <= i + (Tk - Tq): the queries are the last Tq of Tk positions, so one
   * decoding step (Tq = 1) against a KV cache is `causal: true` too. Needs Tq <= Tk. */
  causal?: boolean;
  /** Additive f32 mask [Tq, Tk] or [B, Tq, Tk]: 0 keeps a key, -Infinity drops it (other values
   * are added to the scores as a bias). Combines with `causal`. Gets no gradient. */
  mask?: Tensor;
  /** Multiplies q.k (default 1 / sqrt(D)). */
  scale?: number;
  /** Use only the first kvLength rows of each k/v head (a KV cache allocated at full size and
   * filled as decoding goes); default: all rows. Tk below means this length. */
  kvLength?: number;
}

interface ResolvedOptions {
  causal: boolean;
  mask: Tensor | null;
  scale: number;
  kvLength: number;
}

function resolve(q: Tensor, options: AttentionOptions): ResolvedOptions {
  const { causal = false, mask, scale, kvLength } = options;
  if (typeof causal !== 'boolean') throw argError('type', 'ERR_ARG', `attention: option 'causal' must be a boolean, got ${typeof causal}`);
  if (mask !== undefined && !(mask instanceof Tensor)) throw argError('type', 'ERR_ARG', "attention: option 'mask' must be a Tensor");
  if (scale !== undefined && !Number.isFinite(scale)) throw argError('range', 'ERR_ARG', `attention: option 'scale' must be a finite number, got ${scale}`);
  if (kvLength !== undefined && !(Number.isInteger(kvLength) && kvLength >= 1)) {
    throw argError('range', 'ERR_ARG', `attention: option 'kvLength' must be a positive integer, got ${kvLength}`);
  }
  if (q.ndim !== 4) throw argError('range', 'ERR_SHAPE', `attention: 'q' must be [B, H, Tq, D], got shape [${q.shape.join(', ')}]`);
  return { causal, mask: mask ?? null, scale: scale ?? 1 / Math.sqrt(q.shape[3]), kvLength: kvLength ?? 0 };
}

/**
 * softmax(q k^T * scale + mask) v with q [B, H, Tq, D] and k, v [B, Hkv, Tk, D], where H is a
 * multiple of Hkv (grouped-query attention: query head h uses kv head floor(h / (H / Hkv))).
 * q, k, v are f32, or all bf16 (f32 accumulation; out and the gradients bf16, lse f32), on the
 * CPU and on CUDA alike.
 * Also returns lse [B, H, Tq], the log-sum-exp of each query's scaled, masked scores (no
 * gradient flows through it). A query that sees no key gets a zero row and lse = -Infinity.
 */
export function attentionWithLse(q: Tensor, k: Tensor, v: Tensor, options: AttentionOptions = {}): { out: Tensor; lse: Tensor } {
  const o = resolve(q, options);
  const [outHandle, lseHandle] = native.attentionForward(q.handle, k.handle, v.handle, o.causal, o.mask?.handle ?? null, o.scale, o.kvLength);
  const out = new Tensor(outHandle);
  const lse = new Tensor(lseHandle);
  const saved = o.mask ? [q, k, v, out, lse, o.mask] : [q, k, v, out, lse];
  record(out, 'attention', [q, k, v], saved, (grad, [sq, sk, sv, so, slse, smask]) => {
    const grads = native.attentionBackward(grad.handle, sq.handle, sk.handle, sv.handle, so.handle, slse.handle, o.causal, smask?.handle ?? null, o.scale, o.kvLength);
    return [q, k, v].map((input, i) => {
      const g = new Tensor(grads[i]);
      if (input.requiresGrad) return g;
      g.dispose();
      return null;
    });
  });
  return { out, lse };
}

/** Fused attention (see attentionWithLse), with gradients for q, k and v. */
export function attention(q: Tensor, k: Tensor, v: Tensor, options: AttentionOptions = {}): Tensor {
  const { out, lse } = attentionWithLse(q, k, v, options);
  lse.dispose(); // the graph keeps its own alias when it needs it
  return out;
}

/**
 * A prefix-LM mask for `attention({ mask })`: the first `prefix` positions (e.g. image tokens)
 * see each other, and every later position (text) sees the whole prefix and earlier text,
 * causally. Additive f32: 0 where visible, -Infinity elsewhere. `prefix` may be one length for
 * every sequence ([length, length]) or one per batch entry ([B, length, length]).
 */
export function prefixLmMask(length: number, prefix: number | readonly number[], options: { device?: Device } = {}): Tensor {
  if (!Number.isInteger(length) || length < 0) throw argError('range', 'ERR_ARG', `prefixLmMask: length must be a non-negative integer, got ${length}`);
  const prefixes = typeof prefix === 'number' ? [prefix] : [...prefix];
  for (const p of prefixes) {
    if (!Number.isInteger(p) || p < 0 || p > length) throw argError('range', 'ERR_ARG', `prefixLmMask: prefix must be an integer in [0, ${length}], got ${p}`);
  }
  const data = new Float32Array(prefixes.length * length * length);
  prefixes.forEach((p, b) => {
    for (let i = 0; i < length; i++) {
      for (let j = 0; j < length; j++) if (j >= p && j > i) data[(b * length + i) * length + j] = -Infinity;
    }
  });
  const shape = typeof prefix === 'number' ? [length, length] : [prefixes.length, length, length];
  return Tensor.from(data, shape, { device: options.device });
}

/** CPU kernel sets of attention ('best' picks the best this CPU has). */
export type CpuAttentionKernel = 'avx512' | 'avx2' | 'generic' | 'best';
/** CUDA variants of attention: 'auto' (default: bf16 forwards on tensor cores when the head
 * dim is a multiple of 16 and there are more than 16 query rows per kv head, else 'flash' for
 * head dims up to 256, 'rowwise' above), 'flash' (tiled in shared memory, f32 math), 'rowwise'
 * (a warp per row, any head dim) or 'wmma' (bf16 forwards on tensor cores wherever the head
 * dim allows). Backwards run 'flash' or 'rowwise'. */
export type CudaAttentionKernel = 'auto' | 'flash' | 'rowwise' | 'wmma';
const CUDA_ATTENTION_KERNELS: readonly string[] = ['auto', 'flash', 'rowwise', 'wmma'] satisfies CudaAttentionKernel[];

/** The CPU kernel set attention uses ('avx512', 'avx2' or 'generic'); pass a name (or 'best')
 * to choose one, e.g. to compare them. A CUDA variant name chooses the CUDA kernels instead
 * (and is returned); it throws ERR_UNSUPPORTED in a build without CUDA. */
export function attentionKernel(name?: CpuAttentionKernel | CudaAttentionKernel): string {
  const cpu = native.attentionKernel(name);
  return name !== undefined && CUDA_ATTENTION_KERNELS.includes(name) ? name : cpu;
}
